from tests.worlds import w  # noqa: F401  (the shared small world)
