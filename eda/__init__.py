"""eda: an EDA machine-learning toolkit for circuit design."""

__version__ = "0.1.0"
