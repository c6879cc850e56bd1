"""Table 1 (image tasks): its configs, the image teacher and distillation cells (also run by
Figure 2), its table, figures, manifest and calibration curves, and its grid family."""
