/// Placeholder.
module Keras.WeightsFilePlaceholder

