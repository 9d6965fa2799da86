"""Locust swarms of pollers driven by ``sim`` strategies (to come)."""
