# gas-repro GPU image.
#
# The paper's experiments used CUDA 10.1 / cuDNN 7.5.1.  The official TF 1.15 GPU
# wheels (tensorflow-gpu==1.15.5) are built against CUDA 10.0 / cuDNN 7.4+, and
# do not load CUDA 10.1's libcudart.so.10.1, so this image uses CUDA 10.0 + cuDNN 7.
# The host needs an NVIDIA driver >= 410.48 and the NVIDIA container toolkit.
#
#   docker build -t gas-repro .
#   docker run --gpus all -v /path/to/data:/data -v "$PWD/results:/app/results" gas-repro
#   docker run --gpus all gas-repro ./run_all.sh --profile paper --jobs 1
#   docker run --gpus all gas-repro ./run_tests.sh --tf1-only   # unit tests (some need a GPU)
#   (--tf1-only: the image has no Python 3.11 for run_tests.sh's TF 2.x lane)
#
# Dependencies come from the same requirements.lock as a local checkout; only the
# TF wheel differs (GAS_TF_BUILD=gpu -> tensorflow-gpu==1.15.5, see setup_env.sh).
FROM nvidia/cuda:10.0-cudnn7-runtime-ubuntu18.04

ENV DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8 \
    LC_ALL=C.UTF-8 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# NVIDIA rotated its CUDA apt signing key in 2022; the old key baked into this EOL
# image makes `apt-get update` fail on the cuda/nvidia-ml repos.  We need nothing
# from them (CUDA/cuDNN are already installed), so drop those sources.
# Ubuntu 18.04 ships python3.7 (3.7.5) + python3.7-venv in 'universe' (no PPA needed);
# its venv starts with Debian's old pip, which setup_env.sh upgrades to pip 24.0.
RUN rm -f /etc/apt/sources.list.d/cuda.list /etc/apt/sources.list.d/nvidia-ml.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
        python3.7 python3.7-venv python3-distutils ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Install dependencies first (only the files setup_env.sh needs) so the heavy
# layer is cached across source edits.
COPY setup_env.sh requirements.lock ./
COPY scripts/env_lib.sh scripts/
ENV GAS_PYTHON=/usr/bin/python3.7 \
    GAS_TF_BUILD=gpu
RUN ./setup_env.sh

# Project sources (.dockerignore keeps .venv/.git/caches out).  The stamp in
# .venv/.gas-stamp matches, so run_all.sh / run_tests.sh skip reinstalling.
COPY . .
RUN ./setup_env.sh

# Datasets / pretrained teachers are expected under a mounted volume:
#   docker run -v /host/data:/data ...   (the code reads GAS_DATA_DIR)
ENV GAS_DATA_DIR=/data \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONHASHSEED=0 \
    MPLBACKEND=Agg
VOLUME ["/data"]

# Unit tests are not run at build time: `docker build` has no GPU, and the GPU
# tests need one.  Run them with `docker run --gpus all gas-repro ./run_tests.sh --tf1-only`.
CMD ["./run_all.sh", "--profile", "quick"]
