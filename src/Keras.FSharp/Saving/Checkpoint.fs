/// Placeholder.
module Keras.CheckpointPlaceholder

