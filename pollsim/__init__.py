"""The ``pollsim`` command line: one entry point over ``sim`` (and, later, the mock server
and the load tests)."""
