"""The torch versions the engine needs: one place for the numbers, read by ./probe.py (the host's
backend report) and ./device.py (the device choice), which must not import each other."""

#: The oldest torch the engine runs on, and the oldest it trains on a GPU with.
MIN_TORCH = (1, 13)
MIN_TORCH_GPU = (2, 0)
