"""Tensor operations below the model layer: pixel shuffle/copy, padding, tiling, colour fix, resizing."""
