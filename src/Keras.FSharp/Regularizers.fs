/// Placeholder.
module Keras.RegularizersPlaceholder

