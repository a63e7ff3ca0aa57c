namespace Keras

open System.Text.Json.Nodes
open TorchSharp

/// <summary>Custom layers whose config and held layers are read when needed rather than given up front: what a class-based
/// custom layer (the C# facade's <c>CustomLayer</c> subclasses, Keras's <c>class CustomDense(layers.Layer)</c>) needs,
/// since its <c>get_config</c> is a method. Otherwise the same machinery as <see cref="CustomLayer.Create"/>: summaries,
/// training, weight sharing and serialization.</summary>
type CustomObjectLayer =
    /// <summary>Makes a one-input, one-output custom layer.</summary>
    /// <param name="className">Keras class name; the automatic layer name is its snake case.</param>
    /// <param name="config">The layer's own config entries (Keras's <c>get_config</c> without name, trainable and
    /// dtype, which are added), read each time the config is asked for.</param>
    /// <param name="build">Declares the weights from the input shapes; runs once, on the first call.</param>
    /// <param name="call">The forward function.</param>
    /// <param name="held">The layers and models the call uses through <c>self.Call</c>, read when the layer is built.</param>
    /// <param name="name">The layer's name; the snake case of the class name, numbered, when None.</param>
    static member Create
        (
            className: string,
            config: unit -> JsonObject,
            build: LayerBuilder -> unit,
            call: CustomCall -> torch.Tensor -> torch.Tensor,
            held: unit -> Layer list,
            name: string option
        ) : Layer =
        if System.String.IsNullOrWhiteSpace className then
            Errors.raiseKeras (InvalidArgument("CustomLayer", "className", "A custom layer needs a class name.", "''"))

        let forward (self: CustomCall) (inputs: torch.Tensor list) =
            match inputs with
            | [ x ] -> [ call self x ]
            | _ ->
                raise (
                    CustomLayerException(
                        InvalidInputs(
                            self.LayerName,
                            className,
                            "This layer takes exactly one input.",
                            $"{inputs.Length} inputs"
                        )
                    )
                )

        CustomMachinery.create
            {
                ClassName = className
                Module = "__main__"
                RegisteredName = Some className
                Config = config
                Build = build
                Call = forward
                Held = held
                Rule = None
                InputSpecs = []
                ComputeMask = fun _ _ -> []
            }
            name
