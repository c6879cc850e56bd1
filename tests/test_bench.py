"""The bench's pieces that are not timings (issue 14): where the PyTorch reference lives, how
op families are named, how a quick cell's seconds per 100 updates are computed."""
import os

import pytest

from building_blocks.common.config import ConfigError
from reproduce.bench import cell_rate, distill_steps, op_profile
from reproduce.core.run_folders import REPO_ROOT

SHARED = os.path.join(REPO_ROOT, "..", "shared")


@pytest.mark.skipif(not os.path.isdir(SHARED), reason="no ../shared beside the checkout")
def test_the_torch_reference_is_the_shared_folders_script():
    # A move of the bench package once pointed this inside the checkout, and the ratios
    # silently disappeared from the bench output.
    assert os.path.isfile(distill_steps.TORCH_SCRIPT)
    assert os.path.samefile(distill_steps.TORCH_SCRIPT,
                            os.path.join(SHARED, "bench", "peer_step_torch.py"))


@pytest.mark.parametrize("op_type,name,family", [
    ("Conv2DBackpropFilter", "generator_step/gradients/g/Conv2D_1_grad/Conv2DBackpropFilter",
     "conv backprop filter"),
    ("Conv2DBackpropInput", "gradients/g/Conv2D_grad/Conv2DBackpropInput",
     "conv backprop input"),
    ("BiasAdd", "student_step/generator/BiasAdd_1", "conv forward (+bias)"),  # oneDNN-fused
    ("SquaredDifference", "student_step/generator/moments_2/SquaredDifference",
     "batch norm (fused or moments, grads)"),
    ("Mul", "gradients/generator/batchnorm_2/mul_1_grad/Mul",
     "batch norm (fused or moments, grads)"),
    ("_MklFusedBatchNormV3", "student_step/generator/FusedBatchNormV3",
     "batch norm (fused or moments, grads)"),
    ("FusedBatchNormGradV3", "gradients/generator/FusedBatchNormV3_grad/FusedBatchNormGradV3",
     "batch norm (fused or moments, grads)"),
    ("ResizeNearestNeighborGrad", "gradients/ResizeNearestNeighbor_1_grad", "upsample ×2 (+grad)"),
    ("_MklToTf", "Mkl2Tf/_59", "oneDNN layout conversion"),
    ("MatMul", "generator/MatMul", "matmul (fc layers)"),
    ("ApplyAdam", "generator_optimizer/update_generator/fc/w/ApplyAdam", "optimizer (Adam)"),
    ("_XlaRun", "cluster_0_1/xla_run", "XLA cluster"),
    ("LeakyRelu", "generator/LeakyRelu", op_profile.OTHER),
])
def test_ops_fall_in_their_family(op_type, name, family):
    assert op_profile.family_of(op_type, name) == family


def test_profile_table_is_sorted_with_shares():
    lines = op_profile.format_profile("dafl B=64 student", 200.0, {"a": 30.0, "b": 90.0})
    assert lines[0].startswith("PROFILE dafl B=64 student: 200.0 ms per step, 120.0 ms in ops")
    assert "b" in lines[1] and "75.0%" in lines[1] and "25.0%" in lines[2]


def test_seconds_per_100_updates_leave_out_start_up_and_evaluation():
    record = {"history": [{"step": 200, "wall_s": 150.0}, {"step": 400, "wall_s": 250.0}],
              "eval_s": 8.0}
    # (250 - 150 - one evaluation of 4 s) over 200 updates, per 100.
    assert cell_rate.seconds_per_100(record) == pytest.approx(48.0)


@pytest.mark.parametrize("updates", [1, 2, 5, 401])
def test_bad_cell_update_counts_are_refused(updates):
    with pytest.raises(ConfigError, match="--bench_cell_updates"):
        cell_rate.check_updates(updates)
    cell_rate.check_updates(0)
    cell_rate.check_updates(400)
