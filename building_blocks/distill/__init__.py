"""What every distillation method shares, on images and on policies: the distiller skeleton with
Student KD and noise KD, the KD loss, the generators and their bank, output families (action
distributions) with Eq. 5's mixture-entropy bound, observation generators for policies, and
Algorithm 1's loop."""
