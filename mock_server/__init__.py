"""The mock status API: HTTP over the ``sim`` lifecycle model on a scaled clock (to come)."""
