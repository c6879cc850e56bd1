"""Tables 6 and 7 (policy distillation): the PPO teacher and policy-distillation cells and
configs, the tables, Figures 3 and 4 and the grid families. Imports neither table1 nor fig2."""
