/// Placeholder.
module Keras.ModelConfigPlaceholder

