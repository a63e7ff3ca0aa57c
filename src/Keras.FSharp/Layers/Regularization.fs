/// Placeholder: filled in by the layer-catalogue work.
module Keras.RegularizationLayers

