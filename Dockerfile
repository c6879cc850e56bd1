# gas-repro GPU images. Two TensorFlow 1.15 bases, chosen with --build-arg TF_IMAGE:
#
#   cuda10 (default): nvidia/cuda:10.0 + cuDNN 7, Python 3.7, tensorflow-gpu==1.15.5 (the
#     paper's stack). CUDA 10.0 drives GPUs up to Turing (compute capability <= 7.5: K80,
#     P100, V100, T4, RTX 20xx); host driver >= 410.48.
#   ngc: NVIDIA's TensorFlow 1 container nvcr.io/nvidia/tensorflow:23.03-tf1-py3 (its last TF1
#     release: TF 1.15.5+nv23.03 on CUDA 12 and cuDNN 8, Python 3.8, Ubuntu 20.04), which
#     drives compute capability >= 6.0, Pascal to Hopper (P100, V100, T4, A100, A10, RTX
#     30xx/40xx, L4, L40, H100); host driver R530+ for its CUDA 12.1 (data-centre GPUs: also
#     the older branches NVIDIA's release notes list, through CUDA forward compatibility).
#     nvcr.io may ask for `docker login nvcr.io` (a free NGC key).
#
# The paper's experiments used CUDA 10.1 / cuDNN 7.5.1.  The official TF 1.15 GPU
# wheels (tensorflow-gpu==1.15.5) are built against CUDA 10.0 / cuDNN 7.4+, and
# do not load CUDA 10.1's libcudart.so.10.1, so the cuda10 image uses CUDA 10.0 + cuDNN 7.
# Both need the NVIDIA container toolkit on the host.
#
#   docker build -t gas-repro .                                        # Turing and older
#   docker build --build-arg TF_IMAGE=ngc -t gas-repro:ngc .           # Ampere, Ada, Hopper
#   docker run --gpus all -v /path/to/data:/data -v "$PWD/runs:/app/runs" gas-repro
#   (a run writes runs/<profile>/; results/ in the image is the shipped reference)
#   docker run --gpus all gas-repro ./run_all.sh --profile paper --jobs 1
#   docker run --gpus all gas-repro ./run_tests.sh --tf1-only   # unit tests
#   (--tf1-only: the images have no Python 3.11 for run_tests.sh's TF 2.x lane)
#   docker build --build-arg GIT_SHA=$(git rev-parse HEAD) -t gas-repro .   # sha in manifests
#
# Dependencies come from the same requirements.lock as a local checkout; only the TF differs
# (cuda10: GAS_TF_BUILD=gpu -> tensorflow-gpu==1.15.5; ngc: GAS_TF_BUILD=ngc -> the image's
# own TF, with requirements-ngc.lock's two pins in place of the lock's; see setup_env.sh).
ARG TF_IMAGE=cuda10

FROM nvidia/cuda:10.0-cudnn7-runtime-ubuntu18.04 AS base-cuda10
# NVIDIA rotated its CUDA apt signing key in 2022; the old key baked into this EOL
# image makes `apt-get update` fail on the cuda/nvidia-ml repos.  We need nothing
# from them (CUDA/cuDNN are already installed), so drop those sources.
# Ubuntu 18.04 ships python3.7 (3.7.5) + python3.7-venv in 'universe' (no PPA needed);
# its venv starts with Debian's old pip, which setup_env.sh upgrades to pip 24.0.
ENV DEBIAN_FRONTEND=noninteractive
RUN rm -f /etc/apt/sources.list.d/cuda.list /etc/apt/sources.list.d/nvidia-ml.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
        python3.7 python3.7-venv python3.7-dev python3-distutils ca-certificates \
        build-essential curl unzip patchelf libosmesa6-dev libgl1-mesa-glx libglfw3 \
 && rm -rf /var/lib/apt/lists/*
ENV GAS_PYTHON=/usr/bin/python3.7 \
    GAS_TF_BUILD=gpu \
    GAS_DOCKER_IMAGE="nvidia/cuda:10.0-cudnn7-runtime-ubuntu18.04 (paper: CUDA 10.1, cuDNN 7.5.1)"

FROM nvcr.io/nvidia/tensorflow:23.03-tf1-py3 AS base-ngc
# Ubuntu 20.04 with Python 3.8 and NVIDIA's TF 1.15.5 in its site-packages; the venv sees
# them (setup_env.sh, GAS_TF_BUILD=ngc). cmake and zlib build atari-py 0.2.6 (no 3.8 wheel).
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        python3.8-venv python3.8-dev ca-certificates build-essential cmake zlib1g-dev \
        curl unzip patchelf libosmesa6-dev libgl1-mesa-glx libglfw3 \
 && rm -rf /var/lib/apt/lists/*
ENV GAS_PYTHON=/usr/bin/python3.8 \
    GAS_TF_BUILD=ngc \
    GAS_DOCKER_IMAGE="nvcr.io/nvidia/tensorflow:23.03-tf1-py3 (TF 1.15.5+nv23.03, CUDA 12.1; paper: CUDA 10.1, cuDNN 7.5.1)"

FROM base-${TF_IMAGE}
ENV LANG=C.UTF-8 \
    LC_ALL=C.UTF-8 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# MuJoCo 1.50 binaries for mujoco-py 1.50 (what gym 0.15.7's v2 MuJoCo envs import). Roboti
# made MuJoCo free in 2021 and published the activation key. Atari ROMs ship inside
# atari-py 0.2.6 (requirements.lock).
RUN mkdir -p /root/.mujoco \
 && curl -fsSL https://www.roboti.us/download/mjpro150_linux.zip -o /tmp/mjpro150.zip \
 && unzip -q /tmp/mjpro150.zip -d /root/.mujoco && rm /tmp/mjpro150.zip \
 && curl -fsSL https://www.roboti.us/file/mjkey.txt -o /root/.mujoco/mjkey.txt
ENV LD_LIBRARY_PATH=/root/.mujoco/mjpro150/bin:${LD_LIBRARY_PATH}

WORKDIR /app

# Install dependencies first (only the files setup_env.sh needs) so the heavy
# layer is cached across source edits.
COPY setup_env.sh requirements.lock requirements-ngc.lock requirements-docker-mujoco.lock ./
COPY scripts/env_lib.sh scripts/
RUN ./setup_env.sh \
 && .venv/bin/python -m pip install --no-deps -r requirements-docker-mujoco.lock \
 && .venv/bin/python -c "import mujoco_py"   # compiles mujoco-py's extension once, at build

# Project sources (.dockerignore keeps .venv/.git/caches out).  The stamp in
# .venv/.gas-stamp matches, so run_all.sh / run_tests.sh skip reinstalling.
COPY . .
RUN ./setup_env.sh

# Datasets live in /data (the code reads GAS_DATA_DIR). MNIST and Fashion-MNIST are fetched
# into the image at build time (checked against their SHA-256s), so `docker run gas-repro
# ./run_all.sh` needs no volume; mount one to bring CIFAR-10 or Kuzushiji-MNIST, or your own
# copies:  docker run -v /host/data:/data ...
ARG GIT_SHA=unknown
ENV GAS_DATA_DIR=/data \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONHASHSEED=0 \
    MPLBACKEND=Agg \
    GAS_GIT_SHA=${GIT_SHA}
# Before VOLUME: what is in /data then becomes the content of a fresh volume.
RUN .venv/bin/python -m reproduce fetch_data --tasks mnist,fashion_mnist --data_dir /data
VOLUME ["/data"]

# The unit tests run at build time, on the CPU (TF falls back to it; no GPU at build), with
# the fetched MNIST/Fashion-MNIST; `docker run --gpus all gas-repro ./run_tests.sh --tf1-only`
# runs them on the GPU.
RUN ./run_tests.sh --tf1-only -q

# No --profile: run_all picks `paper` when TensorFlow sees a GPU, `quick` otherwise.
CMD ["./run_all.sh"]
