"""Policy-distillation math against numpy written like the paper: Eq. 5's Gaussian-mixture
entropy bound (Appendix B.4), Eq. 2's entropy terms for categorical and Gaussian policies,
Eq. 1's KL for both families, and the policy generator loss (Eqs. 2-3)."""
import collections

import numpy as np
import pytest

from building_blocks.distill import action_distributions as ad
from building_blocks.common.tf_compat import tf
from dafl_baseline.objective import policy_generator_loss
from building_blocks.distill.mixture_entropy import gaussian_mixture_entropy_lower_bound

# Framework-level: also runs in the TF 2.x compat.v1 lane (./run_tests.sh).
pytestmark = pytest.mark.tf2

Out = collections.namedtuple("Out", ["logits", "mean", "log_std", "value", "features"])
RNG = np.random.RandomState(0)
MEANS = RNG.randn(5, 3).astype(np.float64)
STDS = np.exp(RNG.randn(5, 3) * 0.5).astype(np.float64)
LOGITS = RNG.randn(6, 4).astype(np.float64)


def normal_pdf(x, mean, cov_diag):
    d = len(x)
    return (np.exp(-0.5 * np.sum((x - mean) ** 2 / cov_diag))
            / np.sqrt((2 * np.pi) ** d * np.prod(cov_diag)))


def huber_lower_bound_numpy(means, stds):
    """Eq. 5 literally: H_lower = −Σ_i w_i log Σ_j w_j z_ij, z_ij = N(μ_i; μ_j, C_i + C_j)."""
    b = len(means)
    w = np.full(b, 1.0 / b)
    total = 0.0
    for i in range(b):
        inner = sum(w[j] * normal_pdf(means[i], means[j], stds[i] ** 2 + stds[j] ** 2)
                    for j in range(b))
        total -= w[i] * np.log(inner)
    return total


def run(graph, session_of, tensors):
    return session_of(graph).run(tensors)


def test_bound_matches_numpy_eq5(graph, session_of):
    got = run(graph, session_of, gaussian_mixture_entropy_lower_bound(MEANS, STDS))
    np.testing.assert_allclose(got, huber_lower_bound_numpy(MEANS, STDS), rtol=1e-10)


def test_bound_for_one_gaussian_is_below_its_exact_entropy_by_the_known_gap(graph, session_of):
    mean, std = MEANS[:1], STDS[:1]
    d = mean.shape[1]
    exact = 0.5 * d * np.log(2 * np.pi * np.e) + np.sum(np.log(std))
    got = run(graph, session_of, gaussian_mixture_entropy_lower_bound(mean, std))
    # z_11 = N(μ; μ, 2C): the bound is D/2·log(4π) + Σ log σ = exact − D/2·log(e/2).
    np.testing.assert_allclose(got, exact - 0.5 * d * np.log(np.e / 2), rtol=1e-10)
    assert got < exact


def test_bound_does_not_exceed_monte_carlo_mixture_entropy(graph, session_of):
    rng = np.random.RandomState(1)
    means, stds = MEANS * 2.0, STDS
    b = len(means)
    n = 200000
    comp = rng.randint(b, size=n)
    x = means[comp] + stds[comp] * rng.randn(n, means.shape[1])
    log_comp = (-0.5 * np.sum(((x[:, None, :] - means[None]) / stds[None]) ** 2, axis=-1)
                - np.sum(np.log(stds), axis=-1)[None] - 0.5 * means.shape[1] * np.log(2 * np.pi))
    log_p = np.logaddexp.reduce(log_comp, axis=1) - np.log(b)
    mc_entropy, mc_err = -log_p.mean(), log_p.std() / np.sqrt(n)
    got = run(graph, session_of, gaussian_mixture_entropy_lower_bound(means, stds))
    assert got <= mc_entropy + 3 * mc_err
    assert got > mc_entropy - 1.5  # a bound, but not a vacuous one on this mixture


def test_bound_is_stable_for_far_apart_components(graph, session_of):
    means = np.array([[0.0], [1e3]])
    stds = np.array([[1e-3], [1e-3]])
    got = run(graph, session_of, gaussian_mixture_entropy_lower_bound(means, stds))
    # Disjoint components: each inner sum is w·z_ii, so H = log 2 + (1/2)log(4π) + log σ.
    np.testing.assert_allclose(got, np.log(2) + 0.5 * np.log(4 * np.pi) + np.log(1e-3),
                               rtol=1e-9)


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_categorical_entropy_terms_match_numpy(graph, session_of):
    out = Out(tf.constant(LOGITS), None, None, None, None)
    family = ad.Categorical()
    p = softmax(LOGITS)
    entropy, entropy_of_mean = run(graph, session_of,
                                   [family.entropy(out), family.entropy_of_mean(out)])
    np.testing.assert_allclose(entropy, -np.sum(p * np.log(p), axis=1), rtol=1e-10)
    mean_p = p.mean(axis=0)  # H(E_x[π_t(x)]) (Eq. 2)
    np.testing.assert_allclose(entropy_of_mean, -np.sum(mean_p * np.log(mean_p)), rtol=1e-8)


def test_categorical_kl_matches_numpy(graph, session_of):
    student = LOGITS[::-1].copy()
    got = run(graph, session_of, ad.Categorical().kl(
        Out(tf.constant(LOGITS), None, None, None, None),
        Out(tf.constant(student), None, None, None, None)))
    p, q = softmax(LOGITS), softmax(student)
    np.testing.assert_allclose(got, np.sum(p * np.log(p / q), axis=1), rtol=1e-8)


def test_gaussian_kl_and_entropy_match_closed_form(graph, session_of):
    rng = np.random.RandomState(2)
    mu_t, mu_s = rng.randn(4, 3), rng.randn(4, 3)
    ls_t, ls_s = rng.randn(4, 3) * 0.3, rng.randn(4, 3) * 0.3
    teacher = Out(None, tf.constant(mu_t), tf.constant(ls_t), None, None)
    student = Out(None, tf.constant(mu_s), tf.constant(ls_s), None, None)
    family = ad.DiagGaussian()
    kl, entropy = run(graph, session_of, [family.kl(teacher, student), family.entropy(teacher)])
    st, ss = np.exp(ls_t), np.exp(ls_s)
    # KL(N(μt, Σt) ‖ N(μs, Σs)) = ½[tr(Σs⁻¹Σt) + (μs−μt)ᵀΣs⁻¹(μs−μt) − D + ln det Σs / det Σt]
    expected = 0.5 * (np.sum(st ** 2 / ss ** 2, 1) + np.sum((mu_s - mu_t) ** 2 / ss ** 2, 1)
                      - 3 + np.log(np.prod(ss ** 2, 1) / np.prod(st ** 2, 1)))
    np.testing.assert_allclose(kl, expected, rtol=1e-10)
    np.testing.assert_allclose(entropy, 0.5 * np.log((2 * np.pi * np.e) ** 3 * np.prod(st ** 2, 1)),
                               rtol=1e-10)


def test_gaussian_kl_is_zero_for_identical_policies(graph, session_of):
    out = Out(None, tf.constant(MEANS), tf.constant(np.log(STDS)), None, None)
    np.testing.assert_allclose(run(graph, session_of, ad.DiagGaussian().kl(out, out)), 0.0,
                               atol=1e-12)


@pytest.mark.parametrize("kind", ["discrete", "continuous"])
def test_policy_generator_loss_combines_eq2_and_eq3(graph, session_of, kind):
    features = RNG.randn(5, 7)
    if kind == "discrete":
        out = Out(tf.constant(LOGITS[:5]), None, None, None, tf.constant(features))
        p = softmax(LOGITS[:5])
        mean_entropy = -np.sum(p * np.log(p), 1).mean()
        entropy_of_mean = -np.sum(p.mean(0) * np.log(p.mean(0)))
    else:
        out = Out(None, tf.constant(MEANS), tf.constant(np.log(STDS)), None,
                  tf.constant(features))
        mean_entropy = np.mean(0.5 * np.log((2 * np.pi * np.e) ** 3 * np.prod(STDS ** 2, 1)))
        entropy_of_mean = huber_lower_bound_numpy(MEANS, STDS)
    loss = policy_generator_loss(ad.family_for(kind), out, entropy_weight=1.0,
                                 mean_entropy_weight=5.0, activation_weight=0.1)
    total = run(graph, session_of, loss.total)
    # L_G = α·E[H(π_t)] − β·H(E π_t) − λ_act·E|h_t|  (Eqs. 2-3)
    expected = mean_entropy - 5.0 * entropy_of_mean - 0.1 * np.abs(features).mean()
    np.testing.assert_allclose(total, expected, rtol=1e-8)


def test_family_for_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="discrete"):
        ad.family_for("box")
