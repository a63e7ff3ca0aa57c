namespace Keras

open System
open System.Collections.Generic
open System.Text.Json.Nodes

/// <summary>Keras's serialized form of one layer (<c>serialize_keras_object</c>): <c>{"module", "class_name", "config",
/// "registered_name"}</c>, and rebuilding layers from it. Built-in classes with a direct constructor mapping are rebuilt
/// here (InputLayer is handled by <c>Model.fromConfig</c>); custom classes come from <c>customObjects</c> or the global
/// registry (<see cref="CustomObjects"/>).</summary>
[<RequireQualifiedAccess>]
module LayerSerialization =
    let private fail (error: KerasError) : 'T = Errors.raiseKeras error

    /// The classes <see cref="deserialize"/> rebuilds without custom objects.
    let builtInClasses =
        [
            "InputLayer"
            "Dense"
            "Activation"
            "Dropout"
            "Flatten"
            "Reshape"
            "Permute"
            "RepeatVector"
            "Add"
            "Subtract"
            "Multiply"
            "Average"
            "Maximum"
            "Minimum"
            "Concatenate"
            "Lambda"
            "Embedding"
            "Masking"
            "SimpleRNN"
            "LSTM"
            "GRU"
            "Bidirectional"
            "TimeDistributed"
            "ConvLSTM2D"
            "Conv1D"
            "Conv2D"
            "Conv3D"
            "Conv1DTranspose"
            "Conv2DTranspose"
            "Conv3DTranspose"
            "DepthwiseConv1D"
            "DepthwiseConv2D"
            "SeparableConv1D"
            "SeparableConv2D"
            "MaxPooling1D"
            "MaxPooling2D"
            "MaxPooling3D"
            "AveragePooling1D"
            "AveragePooling2D"
            "AveragePooling3D"
            "GlobalMaxPooling1D"
            "GlobalMaxPooling2D"
            "GlobalMaxPooling3D"
            "GlobalAveragePooling1D"
            "GlobalAveragePooling2D"
            "GlobalAveragePooling3D"
            "UpSampling1D"
            "UpSampling2D"
            "UpSampling3D"
            "ZeroPadding1D"
            "ZeroPadding2D"
            "ZeroPadding3D"
            "Cropping1D"
            "Cropping2D"
            "Cropping3D"
            "BatchNormalization"
            "LayerNormalization"
            "GroupNormalization"
            "UnitNormalization"
            "SpatialDropout1D"
            "SpatialDropout2D"
            "SpatialDropout3D"
            "GaussianNoise"
            "GaussianDropout"
            "AlphaDropout"
            "MultiHeadAttention"
            "Attention"
            "AdditiveAttention"
            // Issue 13: activation layers, core/merging extras, normalization extras
            "ReLU"
            "LeakyReLU"
            "PReLU"
            "ELU"
            "Softmax"
            "Identity"
            "ActivityRegularization"
            "Dot"
            "EinsumDense"
            "RMSNormalization"
            "SpectralNormalization"
            "Normalization"
            // Preprocessing (issue 13)
            "Rescaling"
            "Resizing"
            "CenterCrop"
            "RandomFlip"
            "RandomRotation"
            "RandomZoom"
            "RandomTranslation"
            "RandomContrast"
            "RandomBrightness"
            "CategoryEncoding"
            "Discretization"
            // Text and lookup preprocessing (issue 13).
            "StringLookup"
            "IntegerLookup"
            "Hashing"
            "TextVectorization"
            "Functional"
            "Sequential"
            // Recurrent extensions and GroupQueryAttention (issue 13)
            "GroupedQueryAttention"
            "GroupQueryAttention"
            "RNN"
            "SimpleRNNCell"
            "LSTMCell"
            "GRUCell"
            // ConvLSTM1D and ConvLSTM3D (issue 13)
            "ConvLSTM1D"
            "ConvLSTM3D"
            "StackedRNNCells"
        ]

    let private str = ConfigReader.str

    let private entry = ConfigReader.entry

    /// <summary>The Keras config of a layer (<c>Layer.getConfig</c>), for InputLayer in Keras's own key set.</summary>
    let layerConfig (layer: Layer) : JsonObject =
        if layer.ClassName = "InputLayer" then
            let config = JsonObject()

            for KeyValue(key, value) in layer.Spec.Config() do
                config[key] <- (if isNull value then null else value.DeepClone())

            config["name"] <- JsonValue.Create layer.Name
            config
        elif
            layer.ClassName = "Discretization"
            || layer.ClassName = "Hashing"
            // Issue 9: Keras's SpatialDropout1D/2D/3D take no `trainable` argument either (their get_config skips
            // Layer's and writes rate, seed, name and dtype), in every Keras 3 version.
            || layer.ClassName = "SpatialDropout1D"
            || layer.ClassName = "SpatialDropout2D"
            || layer.ClassName = "SpatialDropout3D"
        then
            let config = Layer.getConfig layer

            // Keras's Discretization takes no `trainable` argument and writes none (issue 13); nor do SpatialDropout.
            if layer.ClassName <> "Hashing" then
                config.Remove "trainable" |> ignore

            // Keras 3.1.1 gives both an int64 dtype in output_mode "int" (its Hashing refuses a float dtype there).
            match config["output_mode"] with
            | :? JsonValue as mode when mode.GetValue<string>() = "int" -> config["dtype"] <- JsonValue.Create "int64"
            | _ -> ()

            config
        else
            Layer.getConfig layer

    /// Keras 3.1.1's classes whose constructor marks them built (<c>self.built = True</c>): they are never built, so
    /// Keras writes no <c>build_config</c> for them.
    let private builtAtConstruction =
        set [ "Dropout"; "AlphaDropout"; "Softmax"; "Discretization" ]

    /// <summary>Keras's <c>serialize_keras_object(layer)</c>: module ("keras.layers" for built-in layers, "__main__" for
    /// custom ones), class name, config and registered name (null for built-ins, the registered name for custom layers),
    /// plus <c>build_config</c> when <paramref name="buildShapes"/> is given (never for the classes Keras 3.1.1 builds in
    /// their constructor: Dropout, AlphaDropout, Softmax, Discretization).</summary>
    /// <exception cref="KerasException">For a nested functional model, whose graph a layer value does not expose.</exception>
    let serialize (layer: Layer) (buildShapes: Shape list option) : JsonObject =
        if layer.ClassName = "Functional" then
            fail (
                InvalidArgument(
                    layer.Name,
                    "layers",
                    "A functional model nested in another model cannot be serialized yet: its graph is not reachable from the outer model's layer. Serialize the nested model with Model.getConfig on its own.",
                    string layer
                )
            )

        let modul, registered =
            match CustomInfo.tryOf layer with
            | Some info -> info.Module, info.RegisteredName
            | None -> "keras.layers", None

        let o = JsonObject()
        o["module"] <- JsonValue.Create modul
        o["class_name"] <- JsonValue.Create layer.ClassName
        o["config"] <- layerConfig layer

        o["registered_name"] <-
            (match registered with
             | Some r -> JsonValue.Create r :> JsonNode
             | None -> null)

        match buildShapes with
        | _ when builtAtConstruction.Contains layer.ClassName && (CustomInfo.tryOf layer).IsNone -> ()
        | Some [ single ] -> o["build_config"] <- Config.ofList [ "input_shape", Config.shape single ]
        | Some(_ :: _ as many) ->
            o["build_config"] <-
                Config.ofList [ "input_shape", JsonArray(many |> List.map Config.shape |> Array.ofList) ]
        | _ -> ()

        o

    /// <summary>An initializer from its Keras form: a name ("random_normal"), <c>{"class_name", "config"}</c>, or Keras
    /// 2's <c>VarianceScaling</c> equal to a named initializer.</summary>
    /// <exception cref="KerasException">When the initializer is unknown.</exception>
    let initializer (owner: string) (node: JsonNode) : Initializer = ConfigReader.initializer owner node

    /// <summary>An activation from its Keras name; names Keras does not know are looked up as functions in the custom objects.</summary>
    /// <exception cref="KerasException">When the name is neither a Keras activation nor a custom function.</exception>
    let activation (owner: string) (customObjects: IDictionary<string, CustomObject>) (node: JsonNode) : Activation =
        ConfigReader.activation owner customObjects node

    /// A Lambda layer from its config: only registered functions, never code.
    let private lambda (name: string) (customObjects: IDictionary<string, CustomObject>) (config: JsonObject) =
        let refuse reason received =
            fail (InvalidArgument(name, "function", reason, received))

        let fnName =
            match entry config "function" with
            | :? JsonObject as f when str (entry f "class_name") = "__lambda__" ->
                refuse
                    "Requested the deserialization of a `Lambda` layer whose `function` is an anonymous function. Code is never deserialized: give the function a name, register it (CustomObjects.registerFunction) and build the Lambda with that name."
                    "__lambda__"
            | :? JsonObject as f ->
                match str (entry f "registered_name") with
                | null -> str (entry f "config")
                | n -> n
            | node -> str node

        match CustomObjects.tryFind customObjects fnName with
        | Some(Function fn) ->
            let outputShape =
                match entry config "output_shape" with
                | :? JsonArray as a ->
                    Some(
                        a
                        |> Seq.map (fun d -> if isNull d then None else Some(d.GetValue<int>()))
                        |> List.ofSeq
                    )
                | null -> None
                | other -> refuse "Only a tuple `output_shape` can be rebuilt." (other.ToJsonString())

            Lambda.Create(fn, functionName = fnName, ?outputShape = outputShape, name = name)
        | _ ->
            refuse
                $"Unknown function '{fnName}': pass it in `customObjects` or register it with CustomObjects.registerFunction."
                $"'{fnName}'"

    /// <summary>Applies a config's <c>"trainable": false</c> to the layer rebuilt from it (Keras passes the key to the
    /// constructor), freezing it and the layers it holds; <c>true</c> or no key leaves it trainable. Returns the layer.</summary>
    let applyTrainable (config: JsonNode) (layer: Layer) =
        match config with
        | :? JsonObject as c ->
            match entry c "trainable" with
            | :? JsonValue as v ->
                match v.TryGetValue<bool>() with
                | true, false -> Layer.setTrainable false layer
                | _ -> ()
            | _ -> ()
        | _ -> ()

        layer

    /// <summary>Rebuilds a layer (not an InputLayer nor a nested model) from its serialized form: a custom class from
    /// <paramref name="customObjects"/> or the global registry (by registered name, then class name), else a built-in
    /// class. The layer gets the config's name.</summary>
    /// <exception cref="KerasException">When the class is unknown or its config cannot be rebuilt.</exception>
    let rec deserialize (customObjects: IDictionary<string, CustomObject>) (data: JsonObject) : Layer =
        let className = str (entry data "class_name")
        let registered = str (entry data "registered_name")

        let config =
            match entry data "config" with
            | :? JsonObject as c -> c.DeepClone().AsObject()
            | _ -> JsonObject()

        let name =
            match str (entry config "name") with
            | null -> str (entry data "name")
            | n -> n

        let owner = if isNull name then className else name

        let custom () =
            [ registered; className ]
            |> List.tryPick (fun n ->
                match CustomObjects.tryFind customObjects n with
                | Some(LayerClass create) -> Some create
                | _ -> None)

        let fromCustom (create: JsonObject -> Layer) =
            let layer = create config

            if isNull name then
                layer
            else
                CustomLayer.WithName(layer, name)

        // Issue 13: name the registered name (Keras's "package>Name") the factory must be registered under.
        let registeredText, registerUnder =
            if isNull registered || registered = className then
                "", ""
            else
                $" (registered name '{registered}')", $" under \"{registered}\""

        let unknown () =
            if
                not (isNull registered)
                || not (LayerConfigs.kerasOnlyClasses.Contains className)
            then
                fail (
                    InvalidArgument(
                        owner,
                        "class_name",
                        $"Could not locate class '{className}'{registeredText}. It is not a built-in layer class: pass it in `customObjects` or register it with CustomObjects.register{registerUnder} (Keras: custom_objects / register_keras_serializable).",
                        $"'{className}'"
                    )
                )
            else
                fail (
                    InvalidArgument(
                        owner,
                        "class_name",
                        $"'{className}' is a Keras built-in layer class that this library does not implement, so it cannot be rebuilt from a config (this is not a missing custom object).",
                        $"'{className}'"
                    )
                )

        let builtIn () =
            if className = "Lambda" then
                Some(lambda name customObjects config)
            else
                LayerConfigs.tryBuild (deserialize customObjects) customObjects className name config

        if isNull className then
            fail (InvalidArgument(owner, "class_name", "A serialized layer needs a class name.", data.ToJsonString()))

        // A registered name marks a custom class (Keras writes null for its own classes).
        let layer =
            if not (isNull registered) && className <> "Functional" then
                match custom () with
                | Some create -> fromCustom create
                | None -> unknown ()
            else
                match builtIn () with
                | Some layer -> layer
                | None ->
                    match custom () with
                    | Some create -> fromCustom create
                    | None -> unknown ()

        applyTrainable config layer
