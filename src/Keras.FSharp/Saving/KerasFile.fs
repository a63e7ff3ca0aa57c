namespace Keras

open System
open System.Collections.Generic
open System.IO
open System.IO.Compression
open System.Text
open System.Text.Json
open System.Text.Json.Nodes

/// <summary>Whole models in one file, as Keras 3's <c>model.save("m.keras")</c> and <c>keras.saving.load_model</c>:
/// the <c>.keras</c> zip (<c>metadata.json</c>, <c>config.json</c>, <c>model.weights.h5</c>), legacy full-model
/// <c>.h5</c> files (Keras 2 and Keras 3's <c>model.save("m.h5")</c>) and JSON configs (<c>model.to_json()</c>). Nothing
/// in a file runs code: classes and functions come only from the library, <c>customObjects</c> and the registry.</summary>
[<RequireQualifiedAccess>]
module KerasFile =
    /// <summary>The Keras version written in <c>metadata.json</c>: the release whose format the files follow.</summary>
    /// <remarks>One Keras version to write for: layer configs hold what Keras 3.1.1 reads (its <c>get_config</c> keys;
    /// Keras 3.1.1 passes unknown config keys to the constructor, which refuses them). A key only newer Keras writes
    /// (MultiHeadAttention <c>seed</c> 3.4+, LayerNormalization <c>rms_scaling</c> 3.2+, EinsumDense
    /// <c>quantization_config</c>, GroupedQueryAttention <c>seed</c> 3.7+ and <c>use_gate</c>/<c>sliding_window</c>,
    /// Attention <c>seed</c>, transposed convolutions' <c>output_padding</c>, ZeroPadding1D <c>data_format</c> 3.5+) is
    /// written only when its value differs from the default older Keras implies: a seed or an output padding only when
    /// set, the others never while the library supports only their default. Reading accepts them all.</remarks>
    [<Literal>]
    let KerasVersion = "3.1.1"

    /// The most bytes <c>config.json</c> (or a JSON model file) may hold.
    let private configLimit = 64L * 1024L * 1024L

    let private fileError (owner: string) (path: string) (reason: string) : 'T =
        Errors.raiseKeras (InvalidArgument(owner, "filepath", reason, path))

    /// Re-raises a failure while rebuilding a model from a file as a KerasException naming the file.
    let private inFile (path: string) (f: unit -> 'T) : 'T =
        try
            f ()
        with :? KerasException as e when not (e.Message.Contains path) ->
            raise (
                KerasException(
                    InvalidArgument("load_model", "filepath", $"Cannot load the model: {e.Message}", path),
                    e
                )
            )

    let private jsonOptions =
        JsonSerializerOptions(
            WriteIndented = false,
            Encoder = Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping
        )

    /// <summary>Keras's <c>serialize_keras_object(model)</c>: the model's class, module and config, its
    /// <c>build_config</c>, and <c>compile_config</c> when given.</summary>
    let serializeModel (model: Model) (compileConfig: JsonObject option) : JsonObject =
        let o = JsonObject()

        match CustomModel.TryBody model with
        | Some body ->
            // A subclassed model (CustomModel), as Keras writes one: its class and the body's own config.
            let info = CustomInfo.tryOf body
            o["module"] <- JsonValue.Create(info |> Option.map _.Module |> Option.defaultValue "__main__")
            o["class_name"] <- JsonValue.Create body.ClassName
            o["config"] <- Layer.getConfig body

            o["registered_name"] <-
                match info |> Option.bind _.RegisteredName with
                | Some n -> JsonValue.Create n
                | None -> null
        | None when Model.isSequential model ->
            o["module"] <- JsonValue.Create "keras"
            o["class_name"] <- JsonValue.Create "Sequential"
            o["config"] <- Model.getConfig model
            o["registered_name"] <- null
        | None ->
            o["module"] <- JsonValue.Create "keras.src.models.functional"
            o["class_name"] <- JsonValue.Create "Functional"
            o["config"] <- Model.getConfig model
            o["registered_name"] <- JsonValue.Create "Functional"

        let shapes = model.Inputs |> List.map (fun t -> Config.shape t.Shape)

        o["build_config"] <-
            Config.ofList
                [
                    "input_shape",
                    (match shapes with
                     // Keras's Functional builds itself with build(None) in its constructor: Keras writes null.
                     | _ when (CustomModel.TryBody model).IsNone && not (Model.isSequential model) -> null
                     | [ single ] -> single
                     | many -> JsonArray(Array.ofList many) :> JsonNode)
                ]

        match compileConfig with
        | Some c -> o["compile_config"] <- c.DeepClone()
        | None -> ()

        o

    /// <summary>Keras's <c>model.to_json()</c>: the serialized model as JSON text.</summary>
    let toJson (model: Model) =
        (serializeModel model None).ToJsonString jsonOptions

    let private parseJson (path: string) (text: string) : JsonObject =
        try
            match JsonNode.Parse(text, documentOptions = JsonDocumentOptions(MaxDepth = 256)) with
            | :? JsonObject as o -> o
            | _ -> fileError "load_model" path "The model config is not a JSON object."
        with :? JsonException as e ->
            fileError "load_model" path $"The model config is not valid JSON: {e.Message}"

    /// <summary>Keras's <c>keras.models.model_from_json</c>: a model with fresh weights from JSON text written by
    /// <c>to_json</c> (Keras 3 or Keras 2).</summary>
    /// <exception cref="KerasException">When the text is not a model config the library can rebuild.</exception>
    let modelFromJson (json: string) (customObjects: IDictionary<string, CustomObject>) : Model =
        Model.fromConfig (parseJson "<json>" json) customObjects

    /// <summary>Keras's <c>clone_model</c>: a model of the same architecture (same config, layer names included) with
    /// freshly initialized weights.</summary>
    let cloneModel (model: Model) (customObjects: IDictionary<string, CustomObject>) : Model =
        Model.fromConfig (Model.getConfig model) customObjects

    let private metadata () =
        Config.ofList
            [
                "keras_version", Config.value KerasVersion
                "date_saved", Config.value (DateTime.UtcNow.ToString("yyyy-MM-dd@HH:mm:ss"))
            ]

    /// <summary>Keras's <c>model.save("m.keras")</c>: a zip holding <c>metadata.json</c>, <c>config.json</c> (the
    /// serialized model, with <paramref name="compileConfig"/> when given) and <c>model.weights.h5</c> (the weights at
    /// Keras's paths and layouts). The file is replaced atomically: a failed save leaves any old file intact.</summary>
    /// <exception cref="KerasException">When the path does not end in <c>.keras</c>, its folder does not exist, or the
    /// model cannot be serialized.</exception>
    let rec saveWith (model: Model) (compileConfig: JsonObject option) (path: string) =
        saveState model compileConfig None path

    /// Saves with the optimizer's variables (Keras's <c>optimizer/vars</c>) as well.
    and private saveState
        (model: Model)
        (compileConfig: JsonObject option)
        (optimizer: (string * TorchSharp.torch.Tensor list) option)
        (path: string)
        =
        if isNull path || not (path.EndsWith(".keras", StringComparison.Ordinal)) then
            fileError model.Name path "The filename must end in `.keras`."

        let full = Path.GetFullPath path
        let folder = Path.GetDirectoryName full

        if not (Directory.Exists folder) then
            fileError model.Name path $"The folder '{folder}' does not exist; create it before saving."

        let config = (serializeModel model compileConfig).ToJsonString jsonOptions
        let scratch = Path.Combine(Path.GetTempPath(), $"keras-save-{Guid.NewGuid():N}")
        Directory.CreateDirectory scratch |> ignore

        let weights =
            try
                let file = Path.Combine(scratch, "model.weights.h5")
                WeightsFile.saveWeightsWith model optimizer file
                File.ReadAllBytes file
            finally
                try
                    Directory.Delete(scratch, true)
                with _ ->
                    ()

        Durable.removeStaleTemps full
        let temp = Durable.tempFor full

        try
            do
                use stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write)
                use zip = new ZipArchive(stream, ZipArchiveMode.Create)

                let add (name: string) (bytes: byte[]) =
                    let entry = zip.CreateEntry(name, CompressionLevel.Optimal)
                    use s = entry.Open()
                    s.Write(bytes, 0, bytes.Length)

                add "metadata.json" (Encoding.UTF8.GetBytes((metadata ()).ToJsonString jsonOptions))
                add "config.json" (Encoding.UTF8.GetBytes config)
                add "model.weights.h5" weights

                // Adapted vocabularies (StringLookup, IntegerLookup, TextVectorization), as Keras's assets.
                for name, bytes in VocabularyAssets.members model do
                    add name bytes

            Durable.replace temp full
        with _ ->
            (try
                File.Delete temp
             with _ ->
                 ())

            reraise ()

    /// <summary>Saves a compiled model to a <c>.keras</c> file as Keras's <c>model.save</c> does after
    /// <c>compile</c>: <c>config.json</c> carries the <c>compile_config</c> (optimizer with its current learning rate,
    /// loss, loss weights, metrics) and <c>model.weights.h5</c> the optimizer's variables at <c>optimizer/vars/0</c>,
    /// <c>1</c>, ... (iteration count, learning rate, then each trainable weight's slots), so that training resumes
    /// exactly where it stopped after <c>Keras.LoadModel</c>.</summary>
    let saveCompiled (compiled: CompiledModel) (path: string) =
        let arguments =
            match CompiledModels.tryFind compiled.Model with
            | Some(c, a) when obj.ReferenceEquals(c, compiled) -> Some a
            | _ -> None

        let config = CompileConfig.build compiled arguments
        let variables = CompileConfig.optimizerVariables compiled

        try
            let name =
                match ConfigReader.entry (config["optimizer"].AsObject()) "config" with
                | :? JsonObject as c -> ConfigReader.str (ConfigReader.entry c "name")
                | _ -> "optimizer"

            saveState compiled.Model (Some config) (Some(name, variables)) path
        finally
            for v in variables do
                v.Dispose()

    /// <summary>Saves the model to a <c>.keras</c> file, as Keras's <c>model.save</c>: with its compile state (see
    /// <see cref="saveCompiled"/>) when the model was compiled, without otherwise.</summary>
    let save (model: Model) (path: string) =
        match CompiledModels.tryFind model with
        | Some(compiled, _) -> saveCompiled compiled path
        | None -> saveWith model None path

    /// <summary>The serialized model (<c>config.json</c>) of a <c>.keras</c> archive.</summary>
    /// <exception cref="KerasException">When the file is not a zip, holds no single <c>config.json</c>, or it is not
    /// JSON.</exception>
    let readArchiveConfig (path: string) : JsonObject =
        let missing (names: string list) =
            let listed = names |> List.map (fun n -> $"'{n}'") |> String.concat ", "
            $"The archive has no `config.json`, so it is not a Keras 3 `.keras` model file; it holds [{listed}]."

        match ZipMember.read path "config.json" configLimit missing with
        | Ok bytes -> parseJson path (Encoding.UTF8.GetString bytes)
        | Error reason -> fileError "load_model" path reason

    let private isZip (path: string) =
        use stream = File.OpenRead path
        let bytes = Array.zeroCreate<byte> 4
        let n = stream.ReadAtLeast(bytes.AsSpan(), 4, false)
        n = 4 && bytes = [| 0x50uy; 0x4Buy; 0x03uy; 0x04uy |]

    let private isHdf5 (path: string) =
        use stream = File.OpenRead path
        let bytes = Array.zeroCreate<byte> 8
        let n = stream.ReadAtLeast(bytes.AsSpan(), 8, false)

        n = 8
        && bytes = [| 0x89uy; 0x48uy; 0x44uy; 0x46uy; 0x0duy; 0x0auy; 0x1auy; 0x0auy |]

    /// <summary>A loaded model and the <c>compile_config</c> its file carried (Keras 3 <c>.keras</c>) or the legacy
    /// <c>training_config</c>, if any.</summary>
    type Loaded =
        {
            /// <summary>The model rebuilt from the file's config, with the file's weights.</summary>
            Model: Model
            /// <summary>The file's <c>compile_config</c> (Keras 3) or <c>training_config</c> (Keras 2), when it carries
            /// one.</summary>
            CompileConfig: JsonObject option
            /// The model compiled as its file says, when loaded with compile and the file carries a compile config.
            Compiled: CompiledModel option
        }

    /// <summary>Keras's <c>keras.saving.load_model</c>, without compiling: a <c>.keras</c> archive (config and weights),
    /// a legacy full-model <c>.h5</c> file (its <c>model_config</c> attribute and weights), or a <c>.json</c> model
    /// config (fresh weights). The model is rebuilt from the file's own config.</summary>
    /// <exception cref="KerasException">For every failure, naming the file: missing or unreadable file, a class the
    /// library does not have, an unregistered custom class or function, or weights that do not fit.</exception>
    let rec loadWith (path: string) (customObjects: IDictionary<string, CustomObject>) : Loaded =
        loadCompiling path customObjects true

    /// <summary>As <see cref="loadWith"/>; with <paramref name="compile"/> the model is also compiled as the file's
    /// <c>compile_config</c> (Keras 3) or <c>training_config</c> (Keras 2) says, and a <c>.keras</c> archive's optimizer
    /// variables are restored when they fit (Keras's <c>load_model(compile=True)</c>).</summary>
    /// <exception cref="KerasException">Also when the compile config names an optimizer, loss or metric the library
    /// does not have (load with compile=false then).</exception>
    and loadCompiling (path: string) (customObjects: IDictionary<string, CustomObject>) (compile: bool) : Loaded =
        if isNull path || not (File.Exists path) then
            fileError "load_model" path "File not found."

        let customObjects =
            if isNull customObjects then
                CustomObjects.none
            else
                customObjects

        let compileOf (o: JsonObject) =
            match ConfigReader.entry o "compile_config" with
            | :? JsonObject as c when c.Count > 0 -> Some(c.DeepClone().AsObject())
            | _ -> None

        let header =
            try
                if isZip path then "zip"
                elif isHdf5 path then "hdf5"
                else "other"
            with e ->
                fileError "load_model" path $"The file cannot be read: {e.Message}"

        let compileFrom (model: Model) (config: JsonObject option) =
            match config with
            | Some c when compile -> Some(inFile path (fun () -> CompileConfig.compile model c))
            | _ -> None

        match header with
        | "zip" ->
            let serialized = readArchiveConfig path
            let model = inFile path (fun () -> Model.fromConfig serialized customObjects)
            WeightsFile.loadWeightsFromKerasArchive model path
            let compileConfig = compileOf serialized
            let compiled = compileFrom model compileConfig

            match compiled with
            | Some c ->
                match WeightsFile.readArchiveOptimizer model path with
                | Some values ->
                    try
                        // Keras skips (with a warning) optimizer variables that do not fit the optimizer.
                        CompileConfig.restoreOptimizer c values |> ignore
                    finally
                        for v in values do
                            v.Dispose()
                | None -> ()
            | None -> ()
            VocabularyAssets.load model path

            {
                Model = model
                CompileConfig = compileConfig
                Compiled = compiled
            }
        | "hdf5" ->
            match WeightsFile.legacyModelConfig path with
            | None ->
                fileError
                    "load_model"
                    path
                    "The HDF5 file has no `model_config`: it holds weights only. Build the model and use LoadWeights."
            | Some text ->
                let serialized = parseJson path text
                let model = inFile path (fun () -> Model.fromConfig serialized customObjects)
                WeightsFile.loadLegacyH5Weights model path

                let training =
                    WeightsFile.legacyTrainingConfig path
                    |> Option.bind (fun t ->
                        match parseJson path t with
                        | o when o.Count > 0 -> Some o
                        | _ -> None)

                {
                    Model = model
                    CompileConfig = training
                    Compiled = compileFrom model training
                }
        | _ ->
            let text =
                try
                    let info = FileInfo path

                    if info.Length > configLimit then
                        fileError "load_model" path $"The file is larger than {configLimit} bytes."

                    File.ReadAllText path
                with
                | :? KerasException -> reraise ()
                | e -> fileError "load_model" path $"The file cannot be read: {e.Message}"

            if not (text.TrimStart().StartsWith "{") then
                fileError
                    "load_model"
                    path
                    "The file is neither a `.keras` archive, a legacy `.h5` model file, nor a JSON model config."

            let serialized = parseJson path text
            let model = inFile path (fun () -> Model.fromConfig serialized customObjects)

            {
                Model = model
                CompileConfig = None
                Compiled = None
            }

    /// <summary>Keras's <c>load_model(path, custom_objects)</c>: the model of a <c>.keras</c>, legacy <c>.h5</c> or
    /// <c>.json</c> file (see <see cref="loadWith"/>), compiled as its file says.</summary>
    let load (path: string) (customObjects: IDictionary<string, CustomObject>) : Model =
        (loadWith path customObjects).Model

    /// <summary>A model from a file (see <see cref="loadCompiling"/>), then, when <paramref name="weightsPath"/> is
    /// given, the weights of that file loaded into it (see <c>WeightsFile.load</c>: a Keras 3 <c>.weights.h5</c>, a
    /// legacy <c>.h5</c> loaded in layer order, or a <c>.keras</c> archive): Keras's <c>model_from_json</c> followed by
    /// <c>load_weights</c>, in one call.</summary>
    /// <exception cref="KerasException">As <see cref="loadCompiling"/>, and when the weights do not fit the model.</exception>
    let loadWithWeights
        (path: string)
        (weightsPath: string option)
        (customObjects: IDictionary<string, CustomObject>)
        (compile: bool)
        : Loaded =
        let loaded = loadCompiling path customObjects compile

        match weightsPath with
        | Some w ->
            if isNull w || not (File.Exists w) then
                fileError "load_model" w "Weights file not found."

            WeightsFile.load loaded.Model w
        | None -> ()

        loaded

/// <summary><c>model.Save("m.keras")</c>, <c>model.ToJson()</c>, <c>Keras.LoadModel</c>, <c>Keras.ModelFromJson</c> and
/// <c>Keras.CloneModel</c>, as in Keras.</summary>
[<AutoOpen>]
module KerasFileExtensions =
    type Model with
        /// <summary>Saves the whole model (config and weights) to a <c>.keras</c> file (see <see cref="KerasFile.save"/>).</summary>
        member model.Save(path: string) = KerasFile.save model path

        /// <summary>Keras's <c>model.to_json()</c>.</summary>
        member model.ToJson() = KerasFile.toJson model

        /// <summary>The model's last compile (from <c>model.Compile</c>, or from <c>Keras.LoadModel</c> of a file
        /// that carries a compile config), if it was compiled.</summary>
        member model.TryGetCompiled() : CompiledModel option =
            CompiledModels.tryFind model |> Option.map fst

    type CompiledModel with
        /// <summary>Saves the model with this compile state (see <see cref="KerasFile.saveCompiled"/>).</summary>
        member compiled.Save(path: string) = KerasFile.saveCompiled compiled path

    type Keras with
        /// <summary>Keras's <c>keras.saving.load_model</c>: a model from a <c>.keras</c>, legacy <c>.h5</c> or <c>.json</c>
        /// file, rebuilt from the file's own config. Custom classes and functions come from
        /// <paramref name="customObjects"/> and the registry; nothing in the file runs code, whatever
        /// <paramref name="safeMode"/> says (it is accepted for Keras's signature).</summary>
        /// <exception cref="KerasException">For every failure, naming the file.</exception>
        /// <param name="path">A <c>.keras</c> archive, a legacy full-model <c>.h5</c> file or a <c>.json</c> model
        /// config (<c>model.to_json()</c>).</param>
        /// <param name="customObjects">Custom classes and functions by name.</param>
        /// <param name="safeMode">Accepted for Keras's signature.</param>
        /// <param name="compile">Compile the model as the file's <c>compile_config</c> says and restore the optimizer's
        /// variables (true by default, as in Keras); the compiled model is then
        /// <c>model.TryGetCompiled()</c>.</param>
        /// <param name="weightsPath">A weights file (<c>.weights.h5</c>, legacy <c>.h5</c> or <c>.keras</c>) to load
        /// into the model: the pair of a JSON config and its weights.</param>
        static member LoadModel
            (
                path: string,
                ?customObjects: IDictionary<string, CustomObject>,
                ?safeMode: bool,
                ?compile: bool,
                ?weightsPath: string
            ) : Model =
            ignore safeMode

            (KerasFile.loadWithWeights
                path
                weightsPath
                (defaultArg customObjects CustomObjects.none)
                (defaultArg compile true))
                .Model

        /// <summary>As <see cref="LoadModel"/>, giving the compiled model ready to <c>Fit</c>, with the optimizer state
        /// the file saved.</summary>
        /// <exception cref="KerasException">Also when the file carries no compile config.</exception>
        static member LoadCompiledModel
            (path: string, ?customObjects: IDictionary<string, CustomObject>)
            : CompiledModel =
            match (KerasFile.loadWithWeights path None (defaultArg customObjects CustomObjects.none) true).Compiled with
            | Some c -> c
            | None ->
                Errors.raiseKeras (
                    InvalidArgument(
                        "load_model",
                        "filepath",
                        "The file carries no compile config (the model was saved uncompiled); load it with LoadModel and compile it.",
                        path
                    )
                )

        /// <summary>Keras's <c>model_from_json</c>: a model with fresh weights from <c>to_json</c>'s text.</summary>
        static member ModelFromJson(json: string, ?customObjects: IDictionary<string, CustomObject>) : Model =
            KerasFile.modelFromJson json (defaultArg customObjects CustomObjects.none)

        /// <summary>Keras's <c>clone_model</c>: the same architecture with freshly initialized weights.</summary>
        static member CloneModel(model: Model, ?customObjects: IDictionary<string, CustomObject>) : Model =
            KerasFile.cloneModel model (defaultArg customObjects CustomObjects.none)
