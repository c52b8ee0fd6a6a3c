"""Reading users' files: CSV/Parquet tables of series parsed strictly, time axes, and validated rows
prepared for writing. Pure computation on what was read; the store is the pipelines' business."""
