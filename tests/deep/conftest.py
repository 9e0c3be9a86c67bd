import pytest

pytest.importorskip("jax")
pytest.importorskip("sklearn")


@pytest.fixture(scope="session")
def digits_mlp():
    """64-16-10 tanh MLP on 300 digits, float64 (1,210 parameters)."""
    import bea.deep as bd

    return bd.problem("digits", bd.mlp([64, 16, 10]), n_train=300, dtype="float64")
