// The AWS SDK for JavaScript v3's EC2 waiter (waitForInstanceRunning, whose polling loop is
// @smithy/util-waiter's createWaiter) with the EC2 client's own request retries, run
// unmodified on faked timers and answered by a script: what pollsim's aws-js-waiter preset
// is compared with (tests/conformance/test_aws_js.py).
//
// Only the clocks are replaced: setTimeout/clearTimeout (the waiter's and the retry
// strategy's sleeps) run on a fake clock that jumps to the next timer once nothing else is
// left to do, and Date.now reads it (the waiter's deadline, Retry-After). The client's
// requestHandler is its transport hook: it answers each request as the script says at
// that fake time. Math.random is a seeded generator, so a run is reproducible.
//
// With "client": "send", the waiter's client is a stand-in whose send() answers the
// DescribeInstances output (or throws the service error) the script gives, one request
// per call and no request retries: the waiter's own loop and acceptors unchanged, a
// hundred times faster than the SDK's middleware, for the thousands of runs a
// distribution needs. Where the script answers no error, both give the same times (the
// test checks it); under errors only the SDK client is faithful.
//
// Input (stdin, JSON): {bodies: {"running"|"succeeded"|"<status>": text}, jobs: [{script:
//   {ends_at, faults: [[start, stop, http, retry_after]], retry_after_on_200},
//   waiter: {maxWaitTime, minDelay, maxDelay}, runs, seed, client: "sdk"|"send"}]}
// Output (stdout, JSON): {versions, jobs: [[{times, outcome, end}, ...], ...]}, times and
// end in seconds since the waiter started; outcome "ended", "gave up" or "errored".
// Several jobs in one process: loading the EC2 client takes most of a second.
"use strict";

const { Readable } = require("node:stream");

// --- the fake clock -------------------------------------------------------------------
let now = 0; // milliseconds since the run started
let seq = 0;
const timers = new Map(); // id -> {at, seq, fn, args}
const realSetImmediate = setImmediate;
const realSetTimeout = setTimeout;
globalThis.setTimeout = (fn, ms = 0, ...args) => {
  const id = ++seq;
  timers.set(id, { at: now + Math.max(0, Number(ms) || 0), seq: id, fn, args });
  return { id, unref() { return this; }, ref() { return this; }, hasRef: () => false,
    [Symbol.toPrimitive]: () => id };
};
globalThis.clearTimeout = (t) => { timers.delete(typeof t === "object" && t ? t.id : t); };
Date.now = () => now;

// sfc32, seeded: every random choice of the SDK from the run's seed
function seeded(seed) {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

const idle = () => new Promise((r) => realSetImmediate(r));
const pause = () => new Promise((r) => realSetTimeout(r, 1));
// Real work still under way (the SDK reads its config files as it first sends): the fake
// clock must not move until it is done. Pipes, terminals and timers are not work.
const IDLE_KINDS = new Set(["PipeWrap", "TTYWrap", "Timeout", "Immediate", "SignalWrap"]);
const busy = () => process.getActiveResourcesInfo().some((kind) => !IDLE_KINDS.has(kind));

// Runs `start()` to completion, moving the clock from timer to timer once the promise
// jobs have settled (`idles` turns of the event loop: the SDK's streams take a few); at
// most `maxSteps` timers (a loop that never sleeps is a failure).
async function drive(start, idles, maxSteps = 100000) {
  let done = false, value, error;
  start().then((v) => { done = true; value = v; }, (e) => { done = true; error = e; });
  for (let step = 0; ; step++) {
    for (let i = 0; i < idles; i++) await idle();
    for (let waited = 0; !done && busy() && waited < 10000; waited++) await pause();
    if (done) break;
    if (step >= maxSteps || timers.size === 0) {
      throw new Error(timers.size ? "too many timers" : "stuck: nothing to wait for");
    }
    let first = null;
    for (const t of timers.values()) {
      if (!first || t.at < first.at || (t.at === first.at && t.seq < first.seq)) first = t;
    }
    timers.delete(first.seq);
    now = first.at;
    first.fn(...first.args);
  }
  if (error) throw error;
  return value;
}

// --- the scripted status API (harness.Script.answer) -------------------------------------
function answer(script, t) {
  for (const [start, stop, http, retryAfter] of script.faults) {
    if (start <= t && t < stop) return { http, status: null, retryAfter };
  }
  const done = script.ends_at !== null && t >= script.ends_at;
  return { http: 200, status: done ? "succeeded" : "running",
    retryAfter: script.retry_after_on_200 };
}

// A client whose send() is one request to the script: its output, or its error thrown.
function stand_in(script, times) {
  return {
    send: async () => {
      const t = now / 1000;
      times.push(t);
      const a = answer(script, t);
      if (a.http !== 200) {
        const e = new Error(`status ${a.http}`);
        e.name = "ServiceError";
        e.$metadata = { httpStatusCode: a.http };
        throw e;
      }
      const name = a.status === "succeeded" ? "running" : "pending";
      return { Reservations: [{ Instances: [{ InstanceId: "i-0", State: { Name: name } }] }] };
    },
    destroy() {},
  };
}

async function main() {
  const input = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
  const utilWaiter = require("@smithy/util-waiter");
  if (utilWaiter.createWaiter !== require("@smithy/core/client").createWaiter) {
    throw new Error("@smithy/util-waiter is not the waiter the EC2 client runs");
  }
  const version = (name) => require(`${name}/package.json`).version;
  const jobs = [];
  for (const job of input.jobs) jobs.push(await runJob({ ...job, bodies: input.bodies }));
  process.stdout.write(JSON.stringify({
    versions: { "@aws-sdk/client-ec2": version("@aws-sdk/client-ec2"),
      "@smithy/util-waiter": version("@smithy/util-waiter"), "@smithy/core": version("@smithy/core") },
    jobs,
  }));
}

async function runJob(input) {
  const { EC2Client, waitForInstanceRunning } = require("@aws-sdk/client-ec2");
  const { HttpResponse } = require("@smithy/core/protocols");
  const runs = [];
  for (let r = 0; r < input.runs; r++) {
    Math.random = seeded(input.seed + r);
    now = 0;
    timers.clear();
    const times = [];
    const client = input.client === "send" ? stand_in(input.script, times) : new EC2Client({
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "EXAMPLEKEY" },
      requestHandler: {
        handle: async () => {
          const t = now / 1000;
          times.push(t);
          const a = answer(input.script, t);
          const headers = { "content-type": "text/xml;charset=UTF-8" };
          if (a.retryAfter !== null) headers["retry-after"] = String(a.retryAfter);
          const body = Buffer.from(input.bodies[a.http === 200 ? a.status : String(a.http)]);
          return { response: new HttpResponse({ statusCode: a.http, headers,
            body: Readable.from([body]) }) };
        },
        updateHttpClientConfig() {},
        httpHandlerConfigs: () => ({}),
      },
    });
    const result = await drive(() =>
      waitForInstanceRunning({ client, ...input.waiter }, { InstanceIds: ["i-0"] }),
    input.client === "send" ? 1 : 3);
    const outcome = { SUCCESS: "ended", TIMEOUT: "gave up", FAILURE: "errored" }[result.state]
      ?? result.state;
    runs.push({ times, outcome, end: now / 1000 });
    client.destroy();
  }
  return runs;
}

main().catch((e) => { process.stderr.write(`waiter.js: ${e && e.stack || e}\n`); process.exit(1); });
