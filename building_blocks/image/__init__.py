"""The image experiments (Table 1, Figure 2): datasets (MNIST, Fashion-MNIST, CIFAR-10, Kuzushiji-
MNIST), the input modes of Figure 2, LeNet-5 and ResNet classifiers, and the image runner
(teacher training, one distillation cell)."""
