"""`python3 -m densenet_torch.torchrun ARGS`: torchrun (torch.distributed.run) itself, with one fix.

torch 1.13's torchrun cannot start on Python ≥ 3.11: `Std.from_str("0")` maps the default
`--redirects 0` to None (Python 3.11 stopped listing a zero-valued flag when a Flag class is
iterated, which `to_std` relies on), and the agent dies with "'NoneType' object has no attribute
'get'". Later torch releases fixed it. Where the bug shows, this wraps `Std.from_str` to map
numbers through `Std(int)`; everything else is torchrun unchanged, so its documentation applies.
"""
import sys


def _patch_std() -> None:
    try:
        from torch.distributed.elastic.multiprocessing import api
    except ImportError:
        return
    if api.Std.from_str("0") is not None:
        return
    original = api.Std.from_str.__func__

    def from_str(cls, vm):
        value = original(cls, vm)
        if value is None and vm.strip().isdigit():
            return cls(int(vm))
        if isinstance(value, dict):
            return {k: (cls(int(v)) if v is None else v) for k, v in value.items()}
        return value
    api.Std.from_str = classmethod(from_str)


def main() -> None:
    _patch_std()
    from torch.distributed.run import main as torchrun_main
    sys.argv[0] = "torchrun"
    torchrun_main()


if __name__ == "__main__":
    main()
