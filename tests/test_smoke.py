def test_import():
    import eda

    assert eda.__version__
