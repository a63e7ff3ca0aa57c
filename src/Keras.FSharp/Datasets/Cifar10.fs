/// Placeholder.
module Keras.Datasets.Cifar10

