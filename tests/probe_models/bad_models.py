"""Factories that go wrong in each way the probe must refuse (Fig. 3's problem: N = k = 2)."""
import torch

NOT_A_FUNCTION = 3


def raising():
    raise RuntimeError("no weights\nhere")


def not_callable():
    return 3


def call_raises():
    def encode(x):
        raise ValueError("boom")
    return encode


def wrong_k():
    return lambda x: (torch.zeros(len(x), 3, dtype=x.dtype), torch.zeros(len(x), 3, dtype=x.dtype))


def wrong_rows():
    return lambda x: (x[:1], x[:1])


def nan_output():
    return lambda x: (x * float("nan"), 0 * x)


def inf_logvar():
    return lambda x: (x, 0 * x + float("inf"))


def huge_logvar():
    return lambda x: (x, 0 * x + 800.0)


def one_tensor():
    return lambda x: x


def strings():
    return lambda x: ("mean", "logvar")


def integer_output():
    return lambda x: (x.long(), x.long())


def decoder_wrong_shape():
    return lambda z: torch.zeros(len(z), 3, dtype=z.dtype)


def decoder_tuple():
    return lambda z: (z, z)


def decoder_nan():
    return lambda z: z * float("nan")


def exits():
    raise SystemExit(3)
