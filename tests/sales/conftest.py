from tests.inventory.conftest import w  # noqa: F401  (the shared small world)
