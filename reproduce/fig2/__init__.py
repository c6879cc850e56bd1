"""Figure 2 (input modes): its configs, cells, grid family, outputs and figure; reuses Table
1's image cells and configs."""
