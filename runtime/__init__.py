"""The machine-learning runtime every training pipeline shares: the device a run is placed on, model
artifacts to and from bytes, and the training-run records around a fit."""
