"""Inspection probes of the PyTorch engine: the same events, keys and cadences as the TF.js
engine's main/engine/inspect (shared/protocol/inspect.ts describes every field)."""
