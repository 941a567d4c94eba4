"""The tenant directory: one entry per customer business."""
