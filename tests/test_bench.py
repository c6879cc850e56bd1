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


def test_conv_share_times_the_generators_convolutions_and_reads_the_torch_lines(tmp_path):
    """--bench_convs: our three generator convolutions run forward and backward at a tiny
    batch, and the torch script's TORCHCONV lines become a ratio per batch size."""
    from reproduce.bench import conv_share  # pylint: disable=g-import-not-at-top
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'TORCHCONV B=2 forward_ms=4.0 forward_backward_ms=8.0'\n")
    fake.chmod(0o755)
    lines = []
    conv_share.main([2], 1, 1, str(fake), lines.append)
    ours = [l for l in lines if l.startswith("CONVS fw=tf B=2 ")]
    assert len(ours) == 1
    forward, both = [float(v.split("=")[1]) for v in ours[0].split()[3:5]]
    assert 0 < forward and 0 < both
    ratio = [l for l in lines if l.startswith("RATIO convs B=2 tf/torch ")]
    assert len(ratio) == 1
    r_forward, r_both = [float(v.split("=")[1]) for v in ratio[0].split()[4:6]]
    # ratios of the printed (rounded) times: within rounding of ours / theirs
    assert r_forward == pytest.approx(forward / 4.0, abs=0.02)
    assert r_both == pytest.approx(both / 8.0, abs=0.02)
    # The torch side mirrors the generator's shapes.
    assert conv_share.CONVS == ((128, 128, 16), (128, 64, 32), (64, 1, 32))
    with open(conv_share.TORCH_CONVS) as f:
        assert "CONVS = ((128, 128, 16), (128, 64, 32), (64, 1, 32))" in f.read()
    with pytest.raises(ConfigError, match="--torch_python"):
        conv_share.main([2], 1, 1, str(tmp_path / "missing"), lines.append)
