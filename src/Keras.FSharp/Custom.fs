/// Placeholder.
module Keras.CustomPlaceholder

