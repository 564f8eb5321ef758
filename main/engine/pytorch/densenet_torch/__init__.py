"""The DenseNet Workbench's PyTorch engine: a trainer that speaks the workbench's trainer protocol
(JSON lines: commands on stdin, events on stdout) and trains a prepared run folder, on CUDA, ROCm,
Apple MPS or the CPU, and with DistributedDataParallel under torchrun.

    python3 -m densenet_torch --protocol          # started by a workbench host
    python3 -m densenet_torch --run runs/ID       # standalone, on a prepared run folder
    python3 -m densenet_torch --probe             # what this interpreter can do, as JSON

Depends on torch (≥ 1.13; ≥ 2.0 for GPUs) and torchvision only.
"""
#: Bumped when what this engine writes changes in a way readers must know about.
ENGINE_VERSION = "1"
