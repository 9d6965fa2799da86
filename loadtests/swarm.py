"""The locustfile of one ``pollsim loadtest`` run: a user class per strategy, named after
it, so that Locust's web UI, its HTML report and its logs say which strategy a user runs
(the full label is in every request's name, see ``loadtests.failures.named``).

A class name must be a Python identifier: the label's words and numbers, each capitalised
(``full_jitter(fixed(6))`` is ``FullJitterFixed6``, ``ordo-js`` is ``OrdoJs``), two
numbers in a row apart (``exponential(0.5, 2)``: ``Exponential0_5_2``), ``|``, ``&`` and
``+`` read as ``Or``, ``And`` and ``Plus``; of two labels that read the same, the second
numbered (``Fixed5``, ``Fixed5_2``).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence

MAX_NAME = 60  #: characters of a class name (a long label is cut, its request names not)
_OPERATORS = {"|": " or ", "&": " and ", "+": " plus "}
#: names the swarm file itself uses
_TAKEN = {"PollingUser", "StatusClient", "Poller"}


def class_name(label: str) -> str:
    """A readable identifier for a strategy's user class.

    >>> class_name("full_jitter(fixed(6))"), class_name("fixed(5) | after_delay(3600)")
    ('FullJitterFixed6', 'Fixed5OrAfterDelay3600')
    >>> class_name("exponential(0.5, 2, max=60)"), class_name("ordo-js"), class_name("3")
    ('Exponential0_5_2Max60', 'OrdoJs', 'Strategy3')
    """
    text = "".join(_OPERATORS.get(c, c) for c in label)
    name, number = "", False
    for token in re.findall(r"\d+(?:\.\d+)?|[A-Za-z]+", text):
        is_number = token[0].isdigit()
        name += ("_" if number and is_number else "") + token.replace(".", "_").capitalize()
        number = is_number
    name = name[:MAX_NAME] or "Strategy"
    if not name[0].isalpha() or keyword.iskeyword(name):
        name = "Strategy" + name
    return name


def class_names(labels: Sequence[str]) -> list[str]:
    """A distinct class name for each label, in order."""
    names: list[str] = []
    for label in labels:
        base = class_name(label)
        name, n = base, 1
        while name in names or name in _TAKEN:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
    return names


def swarm_file(labels: Sequence[str], texts: Sequence[str]) -> str:
    """A locustfile with a user class per strategy (``texts`` as given, ``labels`` as the
    strategies read them), equal weights."""
    lines = [
        '"""The swarm of one pollsim loadtest run (written by pollsim; run it again with',
        "locust -f this file): a user class per strategy, its requests named",
        '"<path> · <strategy>" in Locust\'s statistics."""',
        "",
        "from loadtests.locustfile import PollingUser",
        "",
    ]
    for name, label, text in zip(class_names(labels), labels, texts, strict=True):
        lines += [
            "",
            f"class {name}(PollingUser):",
            f'    """{_doc(label)}"""',
            "",
            f"    strategy_text = {text!r}",
            "    weight = 1",
            "",
        ]
    return "\n".join(lines)


def _doc(label: str) -> str:
    """A docstring's text: the label, with nothing that would end or break the string."""
    return "Polls by " + label.replace("\\", "\\\\").replace('"', '\\"')
