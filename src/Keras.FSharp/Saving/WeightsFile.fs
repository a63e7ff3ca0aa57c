namespace Keras

open System
open System.Collections.Generic
open System.IO
open System.IO.Compression
open System.Runtime.InteropServices
open PureHDF
open TorchSharp

/// <summary>Model weights in the files Python Keras writes and reads: Keras 3's <c>.weights.h5</c> (what
/// <c>model.save_weights</c> writes), the weights inside a <c>.keras</c> archive, and the legacy full-model HDF5 files
/// of Keras 2 and Keras 3 (<c>model.save("x.h5")</c>).</summary>
/// <remarks>
/// <para>Keras 3 stores weights by layer <em>class</em> and position, not by layer name: the model's layers, in order,
/// become the groups <c>layers/&lt;snake_case class name&gt;</c>, <c>layers/&lt;snake_case class name&gt;_1</c>, ...
/// (numbered per class), each holding a <c>vars</c> group with one dataset per variable, named <c>0</c>, <c>1</c>, ...
/// in Keras's order (trainable variables first). A nested model's layers sit under its own group
/// (<c>layers/functional/layers/dense/vars/0</c>); a recurrent layer's weights under its cell
/// (<c>layers/lstm/cell/vars/0</c>); a Bidirectional layer's under <c>forward_layer</c> and <c>backward_layer</c>;
/// a TimeDistributed layer's under <c>layer</c>; MultiHeadAttention's under <c>_query_dense</c>, <c>_key_dense</c>,
/// <c>_value_dense</c> and <c>_output_dense</c>. The model's own (empty) <c>vars</c> group sits at the root.
/// Two models of the same architecture therefore exchange weights whatever their layers are named.</para>
/// <para>Datasets keep the dtype of the weight (float16 and bfloat16 weights are written as float32); layouts are
/// Keras's (Dense <c>(in, out)</c>, Conv <c>(*kernel, in, filters)</c>, ...), which the layers already use.</para>
/// </remarks>
[<RequireQualifiedAccess>]
module WeightsFile =
    /// One <c>vars</c> group: the weights a layer (or one part of it) stores under a path, in Keras's order.
    type private VarsEntry =
        {
            /// The group holding <c>vars</c>; "" for the model itself.
            Path: string
            /// The name written in the group's <c>name</c> attribute and shown in errors.
            Label: string
            Weights: Weight list
            /// Variables a layer stores under their own names beside the numbered ones (Keras's
            /// <c>save_own_variables</c>): the idf weights of a tf_idf lookup layer, <c>vars/idf_weights</c>.
            Named: NamedVariable list
        }

    /// One named variable of a <c>vars</c> group: its value to write (None: nothing to write) and what to do with the
    /// value read back.
    and [<NoEquality; NoComparison>] private NamedVariable =
        {
            Name: string
            Value: torch.Tensor option
            Load: float32[] -> unit
        }

    /// How a layer holds other layers, as Keras's attribute walk sees it.
    type private Child =
        /// One layer under a fixed attribute name (<c>cell</c>, <c>forward_layer</c>, <c>layer</c>).
        | Attribute of name: string * layer: Layer
        /// A list of layers named by class and position (<c>layers/dense</c>, <c>layers/dense_1</c>).
        | Container of name: string * layers: Layer list

    let private join (parent: string) (child: string) =
        if parent = "" then child else parent + "/" + child

    /// Keras keeps some layers' weights in inner layers; here they are weights named "inner/variable".
    let private partPath (className: string) (prefix: string) =
        match className, prefix with
        | "MultiHeadAttention", "query" -> "_query_dense"
        | "MultiHeadAttention", "key" -> "_key_dense"
        | "MultiHeadAttention", "value" -> "_value_dense"
        | "MultiHeadAttention", "attention_output" -> "_output_dense"
        // GroupQueryAttention (issue 13): the same inner EinsumDense attributes as MultiHeadAttention.
        | "GroupedQueryAttention", "query" -> "_query_dense"
        | "GroupedQueryAttention", "key" -> "_key_dense"
        | "GroupedQueryAttention", "value" -> "_value_dense"
        | "GroupedQueryAttention", "attention_output" -> "_output_dense"
        | _ -> prefix

    let private childrenOf (layer: Layer) =
        match layer.Spec.SubLayers() with
        | [] -> []
        | subs ->
            match layer.ClassName, subs with
            | ("Functional" | "Sequential"), _ -> [ Container("layers", subs) ]
            | "Bidirectional", [ forward; backward ] ->
                [ Attribute("forward_layer", forward); Attribute("backward_layer", backward) ]
            | "TimeDistributed", [ inner ] -> [ Attribute("layer", inner) ]
            // Issue 13: Keras's Wrapper keeps the wrapped layer in its `layer` attribute.
            | "SpectralNormalization", [ inner ] -> [ Attribute("layer", inner) ]
            // Issue 13: StackedRNNCells keeps its cells in the list attribute `cells`; any cell sits under `cell`.
            | "StackedRNNCells", cells -> [ Container("cells", cells) ]
            | _, [ cell ] when cell.ClassName.EndsWith "Cell" || RecurrentDriver.isCell cell -> [ Attribute("cell", cell) ]
            | _ -> [ Container("layers", subs) ]

    /// <summary>Idf weights read from weights files for vocabulary layers whose vocabulary is not set yet (it comes from
    /// the archive's assets, read after the weights); <c>VocabularyAssets.load</c> takes them from here.</summary>
    let internal pendingIdf =
        System.Runtime.CompilerServices.ConditionalWeakTable<LayerIdentity, float32[]>()

    /// Keras's own variables of a layer (issue 13): a tf_idf StringLookup, IntegerLookup or TextVectorization stores
    /// its idf weights (special tokens and padding included) as <c>vars/idf_weights</c>.
    let private namedVariables (layer: Layer) : NamedVariable list =
        match layer.ClassName with
        | "StringLookup"
        | "IntegerLookup"
        | "TextVectorization" ->
            let isTfIdf =
                match layer.Spec.Config()["output_mode"] with
                | :? System.Text.Json.Nodes.JsonValue as mode ->
                    match mode.TryGetValue<string>() with
                    | true, m -> m = "tf_idf"
                    | _ -> false
                | _ -> false

            if not isTfIdf then
                []
            else
                let load (values: float32[]) =
                    let vocabulary = TextLayers.Vocabulary.get layer true

                    if List.isEmpty (TextLayers.Vocabulary.get layer false) then
                        pendingIdf.AddOrUpdate(layer.Identity, values)
                    else
                        let idf =
                            values |> Array.truncate vocabulary.Length |> Array.map float |> List.ofArray

                        TextLayers.Vocabulary.set layer vocabulary (Some idf)

                [
                    {
                        Name = "idf_weights"
                        Value = TextLayers.Vocabulary.idfWeights layer |> Option.map (fun idf -> torch.tensor idf)
                        Load = load
                    }
                ]
        | _ -> []

    /// Every <c>vars</c> group of the model in Keras's walk order, and every container group with the child names the
    /// model gives it. Layers met a second time (shared) are stored once, at their first path, as Keras does.
    let private plan (model: Model) =
        let entries = ResizeArray<VarsEntry>()
        let containers = ResizeArray<string * Set<string>>()
        let visited = HashSet<int64>()

        let prefixOf (w: Weight) =
            match w.Name.IndexOf '/' with
            | -1 -> None
            | i -> Some(w.Name.Substring(0, i))

        let rec visitLayer (path: string) (layer: Layer) =
            if visited.Add layer.Identity.Id then
                let own = Weights.ofLayer layer |> List.ofArray |> Weights.ordered

                // Issue 13: Keras's SpectralNormalization tracks the wrapped layer's kernel as its own first variable
                // (`self.kernel = self.layer.kernel`), so its vars are [kernel, vector_u].
                let own =
                    match layer.ClassName, layer.Spec.SubLayers() with
                    | "SpectralNormalization", [ inner ] ->
                        match NormalizationExtraLayers.spectralKernel inner with
                        | Some kernel -> kernel :: own
                        | None -> own
                    | _ -> own

                entries.Add
                    {
                        Path = path
                        Label = layer.Name
                        Weights = own |> List.filter (prefixOf >> Option.isNone)
                        Named = namedVariables layer
                    }

                // Issue 13: Keras's TextVectorization holds its StringLookup in `_lookup_layer`, which saves the same
                // idf weights again under its own path.
                if layer.ClassName = "TextVectorization" then
                    entries.Add
                        {
                            Path = join path "_lookup_layer"
                            Label = "string_lookup"
                            Weights = []
                            Named = namedVariables layer |> List.map (fun v -> { v with Load = ignore })
                        }

                own
                |> List.choose (fun w -> prefixOf w |> Option.map (fun p -> p, w))
                |> List.groupBy fst
                |> List.iter (fun (prefix, ws) ->
                    entries.Add
                        {
                            Path = join path (partPath layer.ClassName prefix)
                            Label = prefix
                            Weights = List.map snd ws
                            Named = []
                        })

                for child in childrenOf layer do
                    match child with
                    | Attribute(name, sub) -> visitLayer (join path name) sub
                    | Container(name, subs) -> visitContainer (join path name) subs

        and visitContainer (path: string) (layers: Layer list) =
            let used = Dictionary<string, int>()

            let names =
                [
                    for layer in layers do
                        let baseName = Ids.snakeCase layer.ClassName

                        let name =
                            match used.TryGetValue baseName with
                            | true, n ->
                                used[baseName] <- n + 1
                                $"{baseName}_{n + 1}"
                            | _ ->
                                used[baseName] <- 0
                                baseName

                        visitLayer (join path name) layer
                        yield name
                ]

            containers.Add(path, Set.ofList names)

        visited.Add model.AsLayer.Identity.Id |> ignore

        entries.Add
            {
                Path = ""
                Label = model.Name
                Weights = []
                Named = []
            }

        visitContainer "layers" model.Layers
        List.ofSeq entries, List.ofSeq containers

    let private formatShape (dims: int64 seq) =
        Shape.format (Shape.ofInts (dims |> Seq.map int))

    let private fileError (owner: string) (file: string) (reason: string) : 'T =
        Errors.raiseKeras (InvalidArgument(owner, "filepath", reason, file))

    // ----------------------------------------------------------------------------------------------------------
    // Writing

    /// The values of a weight as a flat array of <typeparamref name="T"/>, after converting to <paramref name="target"/>.
    let private valuesOf<'T when 'T: unmanaged and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
        (tensor: torch.Tensor)
        (target: torch.ScalarType)
        : 'T[] =
        use _ = torch.NewDisposeScope()
        tensor.detach().cpu().to_type(target).contiguous().data<'T>().ToArray()

    /// A dataset for one weight: a scalar is written inline, anything else is declared now and filled while writing.
    let private declare<'T when 'T: unmanaged and 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType>
        (tensor: torch.Tensor)
        (target: torch.ScalarType)
        : obj * (H5NativeWriter -> unit) =
        let dims = tensor.Sizes |> Array.map uint64

        if dims.Length = 0 then
            box (valuesOf<'T> tensor target).[0], ignore
        else
            let dataset = H5Dataset<'T[]>(fileDims = dims)
            box dataset, (fun (writer: H5NativeWriter) -> writer.Write(dataset, valuesOf<'T> tensor target))

    let private datasetFor (label: string) (weightName: string) (t: torch.Tensor) =
        match t.dtype with
        | torch.ScalarType.Float32
        | torch.ScalarType.Float16
        | torch.ScalarType.BFloat16 -> declare<float32> t torch.ScalarType.Float32
        | torch.ScalarType.Float64 -> declare<float> t torch.ScalarType.Float64
        | torch.ScalarType.Int32 -> declare<int> t torch.ScalarType.Int32
        | torch.ScalarType.Int64 -> declare<int64> t torch.ScalarType.Int64
        | torch.ScalarType.Int16 -> declare<int16> t torch.ScalarType.Int16
        | torch.ScalarType.Int8 -> declare<sbyte> t torch.ScalarType.Int8
        | torch.ScalarType.Byte -> declare<byte> t torch.ScalarType.Byte
        | other ->
            Errors.raiseKeras (
                InvalidArgument(
                    label,
                    weightName,
                    "Weights of this dtype cannot be written to a weights file (supported: floating point and integer types).",
                    string other
                )
            )

    /// The group at a path under the root, creating the groups along it.
    let private groupAt (root: H5Group) (path: string) =
        let mutable group = root

        if path <> "" then
            for part in path.Split '/' do
                group <-
                    match group.TryGetValue part with
                    | true, (:? H5Group as existing) -> existing
                    | _ ->
                        let created = H5Group()
                        group[part] <- created
                        created

        group

    /// <summary>As <see cref="saveWeights"/>, with optimizer variables (Keras's <c>optimizer.variables</c>, in order)
    /// written at <c>optimizer/vars/0</c>, <c>optimizer/vars/1</c>, ... as Keras 3 stores them.</summary>
    let internal saveWeightsWith (model: Model) (optimizer: (string * torch.Tensor list) option) (path: string) =
        if isNull path || not (path.EndsWith(".weights.h5", StringComparison.Ordinal)) then
            fileError model.Name path "The filename must end in `.weights.h5`."

        let entries, _ = plan model
        let file = H5File()
        let writes = ResizeArray<H5NativeWriter -> unit>()

        let addVars (groupPath: string) (label: string) (tensors: (string * torch.Tensor) list) =
            let vars = H5Group()
            vars.Attributes <- Dictionary<string, obj>(dict [ "name", box label ])

            tensors
            |> List.iteri (fun i (name, t) ->
                let dataset, write = datasetFor label name t
                vars[string i] <- dataset
                writes.Add write)

            (groupAt file groupPath)["vars"] <- vars

        for entry in entries do
            addVars entry.Path entry.Label (entry.Weights |> List.map (fun w -> w.Name, w.Value :> torch.Tensor))

            // Named variables (issue 13): written under their own names beside the numbered ones.
            for named in entry.Named do
                match named.Value with
                | Some value ->
                    let vars = (groupAt file entry.Path)["vars"] :?> H5Group
                    let dataset, write = datasetFor entry.Label named.Name value
                    vars[named.Name] <- dataset
                    writes.Add write
                | None -> ()

        match optimizer with
        | Some(name, variables) -> addVars "optimizer" name (variables |> List.mapi (fun i t -> string i, t))
        | None -> ()

        let full = Path.GetFullPath path
        let folder = Path.GetDirectoryName full

        if not (Directory.Exists folder) then
            fileError model.Name path $"The folder '{folder}' does not exist; create it before saving."

        Durable.removeStaleTemps full
        let temp = Durable.tempFor full

        try
            do
                use writer = file.BeginWrite temp

                for write in writes do
                    write writer

            Durable.replace temp full
        with _ ->
            (try
                File.Delete temp
             with _ ->
                 ())

            reraise ()

    /// <summary>Saves the model's weights in Keras 3's <c>.weights.h5</c> layout, as <c>model.save_weights(path)</c>
    /// does: Python Keras loads the file into the same architecture with <c>model.load_weights(path)</c>, and so does
    /// <see cref="loadWeights"/>.</summary>
    /// <remarks>The file is written to a temporary file in the same folder (<c>.&lt;name&gt;.saving-&lt;id&gt;.tmp</c>),
    /// flushed to disk, and then renamed over <paramref name="path"/>, and the folder is flushed too: a failed or killed
    /// save never destroys an existing file. Temporary files that killed saves of the same target left behind are
    /// removed by the next save.</remarks>
    /// <param name="model">The model whose weights to save.</param>
    /// <param name="path">The target file; it must end in <c>.weights.h5</c>, as Keras requires.</param>
    /// <exception cref="KerasException">When the path does not end in <c>.weights.h5</c>, its folder does not exist, or a
    /// weight's dtype cannot be written.</exception>
    let saveWeights (model: Model) (path: string) =
        match CompiledModels.tryFind model with
        | Some(compiled, _) ->
            let state = compiled.Optimizer

            let variables =
                state.ExportVariables(Model.trainableWeights model |> List.map _.Value)

            try
                saveWeightsWith model (Some(OptimizerState.KerasName state.Optimizer, variables)) path
            finally
                for v in variables do
                    v.Dispose()
        | None -> saveWeightsWith model None path

    // ----------------------------------------------------------------------------------------------------------
    // Reading

    /// A child group of a group, if it exists and is a group.
    let private tryGroup (root: IH5Group) (path: string) : IH5Group option =
        if path = "" then
            Some root
        else
            match Hdf5Guard.tryGet root path with
            | Some(:? IH5Group as sub) -> Some sub
            | _ -> None

    /// The datasets directly in a group, by name.
    let private datasetsIn (group: IH5Group) =
        Hdf5Guard.children group
        |> Seq.choose (fun c ->
            match c with
            | :? IH5Dataset as d -> Some(c.Name, d)
            | _ -> None)
        |> dict

    /// True when a group holds a dataset somewhere below it (cycles and depth bounded).
    let private holdsData (group: IH5Group) = Hdf5Guard.holdsData group

    let private dimsOf (dataset: IH5Dataset) =
        dataset.Space.Dimensions |> Array.map int64

    /// Reads a dataset of any floating point (16, 32 or 64 bits) or integer type, in either byte order, into a tensor
    /// of its shape. <paramref name="source"/> names the file in errors.
    let private readTensor (source: string) (owner: string) (where: string) (dataset: IH5Dataset) : torch.Tensor =
        use scope = torch.NewDisposeScope()
        let dims = dimsOf dataset
        let kind = dataset.Type
        let size = kind.Size
        let count = dims |> Array.fold (fun n d -> n * d) 1L

        let refuse (reason: string) : 'T =
            Errors.raiseKeras (
                InvalidArgument(owner, "weights", $"The dataset '{where}' of '{source}' {reason}", where)
            )

        let supported =
            match kind.Class, size with
            | H5DataTypeClass.FloatingPoint, (2 | 4 | 8)
            | H5DataTypeClass.FixedPoint, (1 | 2 | 4 | 8) -> true
            | _ -> false

        if not supported then
            refuse $"has a type that cannot be loaded (HDF5 class {kind.Class}, {size} bytes)."

        // Raw bytes in the file's byte order: PureHDF converts no byte order, and reads no float16 into float32.
        let raw: byte[] = dataset.Read<byte[]>()

        if int64 raw.Length <> count * int64 size then
            refuse $"holds {raw.Length} bytes, but its shape {formatShape dims} and type need {count * int64 size}."

        if Hdf5Guard.isBigEndian dataset = BitConverter.IsLittleEndian && size > 1 then
            for i in 0..size .. raw.Length - size do
                Array.Reverse(raw, i, size)

        let n = int count

        let widened (convert: int -> int64) : torch.Tensor = torch.tensor (Array.init n convert)

        let loaded: torch.Tensor =
            match kind.Class, size with
            | H5DataTypeClass.FloatingPoint, 2 ->
                torch.tensor (Array.init n (fun i -> float32 (BitConverter.ToHalf(raw, i * 2))))
            | H5DataTypeClass.FloatingPoint, 4 ->
                torch.tensor (MemoryMarshal.Cast<byte, float32>(ReadOnlySpan<byte> raw).ToArray())
            | H5DataTypeClass.FloatingPoint, _ ->
                torch.tensor (MemoryMarshal.Cast<byte, float>(ReadOnlySpan<byte> raw).ToArray())
            | _, 4 when kind.FixedPoint.IsSigned ->
                torch.tensor (MemoryMarshal.Cast<byte, int>(ReadOnlySpan<byte> raw).ToArray())
            | _, 8 when kind.FixedPoint.IsSigned ->
                torch.tensor (MemoryMarshal.Cast<byte, int64>(ReadOnlySpan<byte> raw).ToArray())
            | _, 1 when kind.FixedPoint.IsSigned -> widened (fun i -> int64 (sbyte raw[i]))
            | _, 1 -> widened (fun i -> int64 raw[i])
            | _, 2 when kind.FixedPoint.IsSigned -> widened (fun i -> int64 (BitConverter.ToInt16(raw, i * 2)))
            | _, 2 -> widened (fun i -> int64 (BitConverter.ToUInt16(raw, i * 2)))
            | _, 4 -> widened (fun i -> int64 (BitConverter.ToUInt32(raw, i * 4)))
            | _ -> widened (fun i -> int64 (BitConverter.ToUInt64(raw, i * 8)))

        scope.MoveToOuter(loaded.reshape dims)

    /// Reads every checked (weight, dataset) pair, then copies the values into the weights: nothing changes unless
    /// every value could be read.
    let private assign (source: string) (pairs: (Weight * string * string * IH5Dataset) list) =
        let values =
            pairs
            |> List.map (fun (w, owner, where, d) -> w, readTensor source owner where d)

        use _ = torch.no_grad ()

        for w, v in values do
            let converted = v.to_type w.Value.dtype
            w.Value.copy_ converted |> ignore

            if not (obj.ReferenceEquals(converted, v)) then
                converted.Dispose()

            v.Dispose()

    /// A dataset's values as float32 (a named variable such as idf_weights).
    let private readFloats (source: string) (owner: string) (where: string) (dataset: IH5Dataset) : float32[] =
        use t = readTensor source owner where dataset
        use f = t.to_type(torch.ScalarType.Float32).contiguous ()
        f.data<float32>().ToArray()

    /// Runs a load, turning failures of the HDF5 reader (a corrupt or truncated file) into a KerasException.
    let private guarded (model: Model) (source: string) (load: unit -> 'T) : 'T =
        try
            load ()
        with
        | :? KerasException
        | :? FileNotFoundException -> reraise ()
        | HostileHdf5 reason -> fileError model.Name source reason
        | ex ->
            fileError
                model.Name
                source
                $"The file could not be read as a Keras weights file: {ex.GetType().Name}: {ex.Message}"

    let private openHdf5 (model: Model) (path: string) : PureHDF.VOL.Native.NativeFile =
        if not (File.Exists path) then
            raise (FileNotFoundException($"No weights file at '{path}'.", path))

        try
            Hdf5Guard.openFile path
        with ex ->
            fileError model.Name path $"The file is not a readable HDF5 file: {ex.Message}"

    /// The group stored at a path, with Keras's fallback for files written by Keras 2.13's `.keras` format.
    let private storedGroup (root: IH5Group) (path: string) =
        match tryGroup root path with
        | Some g -> Some g
        | None when
            path.StartsWith "layers"
            && Hdf5Guard.exists root "_layer_checkpoint_dependencies"
            ->
            tryGroup root (path.Replace("layers", "_layer_checkpoint_dependencies"))
        | None -> None

    /// The vars group stored for an entry.
    let private storedVars (root: IH5Group) (path: string) = storedGroup root (join path "vars")

    let private quoted (names: string seq) =
        names |> Seq.map (fun n -> $"'{n}'") |> String.concat ", " |> sprintf "[%s]"

    /// Loads Keras 3's layout from an open HDF5 root.
    let private loadKeras3 (model: Model) (source: string) (root: IH5Group) =
        guarded model source (fun () ->
            if
                not (
                    Hdf5Guard.exists root "layers"
                    || Hdf5Guard.exists root "vars"
                    || Hdf5Guard.exists root "_layer_checkpoint_dependencies"
                )
            then
                fileError
                    model.Name
                    source
                    "The file has no `layers` or `vars` group, so it is not a Keras 3 weights file (`.weights.h5`). Legacy Keras HDF5 files (`model.save(\"x.h5\")`) load with loadLegacyH5Weights."

            let entries, containers = plan model
            let namedLoads = ResizeArray<unit -> unit>()

            let pairs =
                [
                    for entry in entries do
                        let stored = storedVars root entry.Path
                        let all = stored |> Option.map datasetsIn |> Option.defaultValue (dict [])
                        let namedNames = entry.Named |> List.map _.Name |> set
                        let varsPath = join entry.Path "vars"

                        // Named variables (issue 13) are read now and applied after the numbered ones.
                        for named in entry.Named do
                            match all.TryGetValue named.Name with
                            | true, d -> namedLoads.Add(fun () -> named.Load(readFloats source entry.Label $"{varsPath}/{named.Name}" d))
                            | _ -> ()

                        let datasets =
                            all
                            |> Seq.filter (fun kv -> not (namedNames.Contains kv.Key))
                            |> Seq.map (fun kv -> kv.Key, kv.Value)
                            |> dict

                        if datasets.Count <> entry.Weights.Length then
                            let missing =
                                if stored.IsNone then
                                    $" The file has no group '{varsPath}'."
                                else
                                    ""

                            Errors.raiseKeras (
                                InvalidArgument(
                                    entry.Label,
                                    "weights",
                                    $"Layer '{entry.Label}' expected {entry.Weights.Length} variables, but received {datasets.Count} variables during loading. Expected: {quoted (entry.Weights |> List.map _.Name)} (group '{varsPath}' of '{source}').{missing}",
                                    $"{datasets.Count} variables"
                                )
                            )

                        for i, w in List.indexed entry.Weights do
                            let where = $"{varsPath}/{i}"

                            match datasets.TryGetValue(string i) with
                            | true, d ->
                                let expected = w.Value.Sizes
                                let received = dimsOf d

                                if expected <> received then
                                    Errors.raiseKeras (
                                        InvalidArgument(
                                            entry.Label,
                                            w.Name,
                                            $"The shape of the target variable and the shape of the target value must match: variable.shape={formatShape expected}, value.shape={formatShape received} (dataset '{where}' of '{source}').",
                                            formatShape received
                                        )
                                    )

                                yield w, entry.Label, where, d
                            | _ ->
                                Errors.raiseKeras (
                                    InvalidArgument(
                                        entry.Label,
                                        w.Name,
                                        $"The file has no dataset '{where}' for variable '{w.Name}' of layer '{entry.Label}'; it has {quoted datasets.Keys}.",
                                        source
                                    )
                                )
                ]

            // Weights for layers the model does not have mean another architecture.
            for path, names in containers do
                match storedGroup root path with
                | Some group ->
                    for child in Hdf5Guard.children group do
                        match child with
                        | :? IH5Group as g when not (names.Contains child.Name) && holdsData g ->
                            fileError
                                model.Name
                                source
                                $"The file holds weights at '{join path child.Name}', but the model has no such layer (it has {quoted (Set.toList names)} there). The file was saved from another architecture."
                        | _ -> ()
                | None -> ()

            assign source pairs

            for load in namedLoads do
                load ())

    /// <summary>Loads weights saved in Keras 3's <c>.weights.h5</c> layout — by <see cref="saveWeights"/> or by Python
    /// Keras's <c>model.save_weights</c> — into a model of the same architecture. Layers are matched by class and
    /// position, not by name. Nothing changes unless every weight can be loaded.</summary>
    /// <param name="model">The model to load into.</param>
    /// <param name="path">The weights file.</param>
    /// <exception cref="KerasException">When the file is not a readable Keras 3 weights file, an entry is missing, a
    /// layer's variable count or a shape differs (the message names the layer and both shapes), or the file has weights
    /// for layers the model does not have.</exception>
    /// <exception cref="System.IO.FileNotFoundException">When the file does not exist.</exception>
    let loadWeights (model: Model) (path: string) =
        guarded model path (fun () ->
            use file = openHdf5 model path
            loadKeras3 model path file)

    /// The most bytes a model's weights file may hold: every weight stored as float64 four times over (Keras 3 also
    /// saves the optimizer's variables in the file: Adam keeps two slots per weight, plus an iteration count), plus
    /// room for HDF5's metadata (object headers, B-trees and heaps of a few KB per group and dataset).
    let private weightsBound (model: Model) =
        let entries, _ = plan model

        let values =
            entries
            |> List.sumBy (fun e -> e.Weights |> List.sumBy (fun w -> w.Value.numel () * 8L * 4L))

        let named =
            entries
            |> List.sumBy (fun e ->
                e.Named |> List.sumBy (fun v -> v.Value |> Option.map (fun t -> t.numel () * 8L * 4L) |> Option.defaultValue 0L))

        let values = values + named

        let objects =
            entries |> List.sumBy (fun e -> 4 + 3 * (e.Weights.Length + e.Named.Length)) |> int64
        values + objects * 16_384L + (1L <<< 20)

    /// The HDF5 weights inside a `.keras` archive, read into memory: unique, bounded by what the model's weights can
    /// take, and checked against the member's length and CRC-32.
    let private archiveWeights (model: Model) (path: string) : Stream =
        if not (File.Exists path) then
            raise (FileNotFoundException($"No Keras archive at '{path}'.", path))

        let missing (names: string list) =
            if List.contains "model.weights.npz" names then
                "The archive stores its weights as `model.weights.npz`; only `model.weights.h5` (Keras's default) can be read."
            else
                $"The archive has no `model.weights.h5`; it holds {quoted names}."

        match ZipMember.read path "model.weights.h5" (weightsBound model) missing with
        | Ok bytes -> new MemoryStream(bytes, false)
        | Error reason -> fileError model.Name path reason

    /// Parses a model config carried by a weights file and checks the model against it (see ConfigCheck).
    let private checkAgainst (model: Model) (path: string) (json: string) =
        let parsed =
            try
                System.Text.Json.Nodes.JsonNode.Parse json
            with _ ->
                null

        match parsed with
        | :? System.Text.Json.Nodes.JsonObject as o -> ConfigCheck.check model path o
        | _ -> ()

    /// <summary>Loads the weights of a Keras 3 <c>.keras</c> archive (a zip holding <c>config.json</c>,
    /// <c>metadata.json</c> and <c>model.weights.h5</c>) into a model of the same architecture, built in F#. The
    /// archive's config is not read: build the same layers in the same order.</summary>
    /// <remarks>The weights member is read into memory, at most as many bytes as the model's weights can take (as
    /// float64, with room for optimizer variables and HDF5 metadata), and must match its CRC-32; an archive holding it
    /// twice is refused.</remarks>
    /// <param name="model">The model to load into.</param>
    /// <param name="path">The <c>.keras</c> file.</param>
    /// <exception cref="KerasException">As <see cref="loadWeights"/>, and when the file is not a zip archive, holds no
    /// <c>model.weights.h5</c> or more than one, or the member is larger than the model's weights or fails its
    /// CRC-32.</exception>
    let loadWeightsFromKerasArchive (model: Model) (path: string) =
        let source = $"{path}!model.weights.h5"

        guarded model path (fun () ->
            match ZipMember.read path "config.json" (64L * 1024L * 1024L) (fun _ -> "") with
            | Ok bytes -> checkAgainst model path (Text.Encoding.UTF8.GetString bytes)
            | Error _ -> ()

            use stream = archiveWeights model path

            use file =
                try
                    Hdf5Guard.openStream stream
                with ex ->
                    fileError model.Name source $"The archive's weights are not a readable HDF5 file: {ex.Message}"

            loadKeras3 model source file)

    /// The datasets of <c>optimizer/vars</c>, numbered 0, 1, ..., as tensors; None when the file has no such group.
    let private optimizerVariablesIn (model: Model) (source: string) (file: IH5Group) : torch.Tensor list option =
        match tryGroup file "optimizer/vars" with
        | None -> None
        | Some vars ->
            let datasets = datasetsIn vars

            let indexed =
                [ 0 .. datasets.Count - 1 ]
                |> List.map (fun i ->
                    match datasets.TryGetValue(string i) with
                    | true, d -> Some d
                    | _ -> None)

            if indexed |> List.exists Option.isNone then
                fileError
                    model.Name
                    source
                    $"The group 'optimizer/vars' does not hold datasets numbered 0 to {datasets.Count - 1}; it holds {quoted datasets.Keys}."

            indexed
            |> List.mapi (fun i d -> readTensor source "optimizer" $"optimizer/vars/{i}" d.Value)
            |> Some

    /// <summary>The optimizer variables a <c>.keras</c> archive stores at <c>optimizer/vars/0</c>, <c>1</c>, ... (Keras 3's
    /// <c>save_own_variables</c>), in order; None when the archive has none.</summary>
    let internal readArchiveOptimizer (model: Model) (path: string) : torch.Tensor list option =
        let source = $"{path}!model.weights.h5"

        guarded model path (fun () ->
            use stream = archiveWeights model path

            use file =
                try
                    Hdf5Guard.openStream stream
                with ex ->
                    fileError model.Name source $"The archive's weights are not a readable HDF5 file: {ex.Message}"

            optimizerVariablesIn model source file)

    /// <summary>The optimizer variables a Keras 3 <c>.weights.h5</c> file stores at <c>optimizer/vars/N</c> (Keras's
    /// <c>model.save_weights</c> of a compiled model), in order; None when it has none.</summary>
    let internal readWeightsFileOptimizer (model: Model) (path: string) : torch.Tensor list option =
        guarded model path (fun () ->
            use file = openHdf5 model path
            optimizerVariablesIn model path file)

    /// <summary>Restores the optimizer variables of a weights file or <c>.keras</c> archive into the model's last
    /// compile (Keras's <c>load_weights</c> loads <c>optimizer/vars</c> with the layers): nothing happens when the model
    /// is not compiled, the file has none, or they do not fit the optimizer (Keras warns and skips).</summary>
    let private restoreOptimizerFrom (model: Model) (read: unit -> torch.Tensor list option) =
        match CompiledModels.tryFind model with
        | Some(compiled, _) ->
            match read () with
            | Some values ->
                try
                    compiled.Optimizer.TryImportVariables(Model.trainableWeights model |> List.map _.Value, values)
                    |> ignore
                finally
                    for v in values do
                        v.Dispose()
            | None -> ()
        | None -> ()

    // ----------------------------------------------------------------------------------------------------------
    // Legacy HDF5 (Keras 2, and Keras 3's model.save("x.h5"))

    /// A string list attribute as Keras's legacy writer stores it, possibly split into name0, name1, ... chunks.
    let private stringsAttribute (o: IH5Object) (name: string) =
        let read (a: IH5Attribute) =
            let count = a.Space.Dimensions |> Array.fold (fun n d -> n * d) 1UL

            if
                a.Space.Type = H5DataspaceType.Null
                || count = 0UL
                || a.Type.Class = H5DataTypeClass.FloatingPoint
            then
                []
            elif a.Space.Type = H5DataspaceType.Scalar then
                [ a.Read<string>() ]
            else
                a.Read<string[]>() |> List.ofArray

        if o.AttributeExists name then
            read (o.Attribute name)
        else
            Seq.initInfinite (fun i -> $"{name}{i}")
            |> Seq.takeWhile o.AttributeExists
            |> Seq.collect (fun chunk -> read (o.Attribute chunk))
            |> List.ofSeq

    /// The group holding the layer groups: <c>model_weights</c> in a full-model file, the root in a weights-only one.
    let private legacyRoot (model: Model) (source: string) (file: IH5Group) =
        if Hdf5Guard.exists file "model_weights" then
            match Hdf5Guard.tryGet file "model_weights" with
            | Some(:? IH5Group as g) -> g
            | _ -> fileError model.Name source "`model_weights` is not a group."
        elif file.AttributeExists "layer_names" || file.AttributeExists "layer_names0" then
            file
        else
            fileError
                model.Name
                source
                "The file has no `model_weights` group or `layer_names` attribute, so it is not a legacy Keras HDF5 file. Keras 3 weights files (`.weights.h5`) load with loadWeights."

    /// One layer group of a legacy file: its name and its datasets in weight_names order.
    let private legacyLayer (model: Model) (source: string) (root: IH5Group) (name: string) =
        match tryGroup root name with
        | None -> fileError model.Name source $"The file lists layer '{name}' but has no group for it."
        | Some group ->
            stringsAttribute group "weight_names"
            |> List.map (fun weightName ->
                match Hdf5Guard.tryGet group weightName with
                | Some(:? IH5Dataset as d) -> weightName, d
                | _ ->
                    fileError
                        model.Name
                        source
                        $"The file has no dataset '{name}/{weightName}' listed in the weight_names of layer '{name}'.")

    /// Checks one layer's saved weights against the model's layer (Keras's messages) and pairs them.
    let private pairLegacy (source: string) (index: int) (layer: Layer) (saved: (string * IH5Dataset) list) =
        let symbolic = Layer.weights layer

        if symbolic.Length <> saved.Length then
            Errors.raiseKeras (
                InvalidArgument(
                    layer.Name,
                    "weights",
                    $"Layer #{index} (named \"{layer.Name}\") expects {symbolic.Length} weight(s), but the saved weights in '{source}' have {saved.Length} element(s).",
                    quoted (List.map fst saved)
                )
            )

        List.zip symbolic saved
        |> List.map (fun (w, (weightName, d)) ->
            let expected = w.Value.Sizes
            let received = dimsOf d

            if expected <> received then
                Errors.raiseKeras (
                    InvalidArgument(
                        layer.Name,
                        w.Name,
                        $"Shape mismatch in layer #{index} (named \"{layer.Name}\") for weight {w.Name}. Weight expects shape {formatShape expected}. Received saved weight with shape {formatShape received} (dataset '{layer.Name}/{weightName}' of '{source}').",
                        formatShape received
                    )
                )

            w, layer.Name, $"{layer.Name}/{weightName}", d)

    let private weighted (model: Model) =
        model.Layers |> List.filter (fun l -> not (Layer.weights l).IsEmpty)

    let private loadLegacy (model: Model) (path: string) (byName: bool) =
        guarded model path (fun () ->
            use file = openHdf5 model path
            let root = legacyRoot model path file
            let names = stringsAttribute root "layer_names"

            let pairs =
                if byName then
                    weighted model
                    |> List.mapi (fun i layer ->
                        if not (List.contains layer.Name names) then
                            let available =
                                names |> List.filter (fun n -> not (legacyLayer model path root n).IsEmpty)

                            Errors.raiseKeras (
                                InvalidArgument(
                                    layer.Name,
                                    "weights",
                                    $"Layer '{layer.Name}' has weights, but '{path}' has no layer of that name; its layers with weights are {quoted available}.",
                                    layer.Name
                                )
                            )

                        pairLegacy path i layer (legacyLayer model path root layer.Name))
                    |> List.concat
                else
                    let saved =
                        names
                        |> List.map (fun n -> legacyLayer model path root n)
                        |> List.filter (fun ws -> not ws.IsEmpty)

                    let layers = weighted model

                    if saved.Length <> layers.Length then
                        fileError
                            model.Name
                            path
                            $"Layer count mismatch when loading weights from file. Model expected {layers.Length} layers, found {saved.Length} saved layers."

                    List.zip layers saved
                    |> List.mapi (fun i (l, s) -> pairLegacy path i l s)
                    |> List.concat

            match stringsAttribute file "model_config" with
            | [] -> ()
            | parts -> checkAgainst model path (String.concat "" parts)

            assign path pairs)

    /// <summary>Loads weights from a legacy Keras HDF5 file — a full model saved by Keras 2 or by Keras 3's
    /// <c>model.save("x.h5")</c> (weights under <c>model_weights/&lt;layer&gt;</c>, named as its <c>weight_names</c>
    /// attribute lists them: <c>&lt;layer&gt;/kernel:0</c> in Keras 2, <c>kernel</c> in Keras 3), or a legacy
    /// weights-only file — matching the model's layers <em>by name</em> (Keras's <c>by_name=True</c>). Every layer of
    /// the model with weights must be in the file; file layers the model does not have are ignored. Nothing changes
    /// unless every weight can be loaded.</summary>
    /// <param name="model">The model to load into; name its layers as in the file.</param>
    /// <param name="path">The <c>.h5</c> file.</param>
    /// <exception cref="KerasException">When the file is not a readable legacy Keras file, a layer is missing, or a
    /// weight count or shape differs (Keras's messages).</exception>
    let loadLegacyH5Weights (model: Model) (path: string) = loadLegacy model path true

    /// <summary>Loads weights from a legacy Keras HDF5 file as Keras's <c>model.load_weights("x.h5")</c> does by
    /// default: the file's layers that have weights, in order, go to the model's layers that have weights, in order,
    /// whatever their names.</summary>
    /// <param name="model">The model to load into.</param>
    /// <param name="path">The <c>.h5</c> file.</param>
    /// <exception cref="KerasException">When the file is not a readable legacy Keras file, or the layer count, a weight
    /// count or a shape differs (Keras's messages).</exception>
    let loadLegacyH5WeightsInOrder (model: Model) (path: string) = loadLegacy model path false

    /// <summary>Loads weights from any of the files Keras's <c>model.load_weights</c> accepts, recognised by content: a
    /// <c>.keras</c> archive (<see cref="loadWeightsFromKerasArchive"/>), a Keras 3 <c>.weights.h5</c> file
    /// (<see cref="loadWeights"/>), or a legacy HDF5 file, loaded in layer order as Keras does
    /// (<see cref="loadLegacyH5WeightsInOrder"/>).</summary>
    /// <param name="model">The model to load into.</param>
    /// <param name="path">The file.</param>
    /// <exception cref="KerasException">When the file is none of these, or does not fit the model.</exception>
    let load (model: Model) (path: string) =
        if not (File.Exists path) then
            raise (FileNotFoundException($"No weights file at '{path}'.", path))

        let header =
            guarded model path (fun () ->
                use stream = File.OpenRead path
                let bytes = Array.zeroCreate<byte> 4
                let n = stream.ReadAtLeast(bytes.AsSpan(), 4, false)
                bytes[.. n - 1])

        if header = [| 0x50uy; 0x4Buy; 0x03uy; 0x04uy |] then
            loadWeightsFromKerasArchive model path
            restoreOptimizerFrom model (fun () -> readArchiveOptimizer model path)
        else
            let legacy =
                guarded model path (fun () ->
                    use file = openHdf5 model path

                    not (Hdf5Guard.exists file "layers" || Hdf5Guard.exists file "vars")
                    && (Hdf5Guard.exists file "model_weights"
                        || file.AttributeExists "layer_names"
                        || file.AttributeExists "layer_names0"))

            if legacy then
                loadLegacyH5WeightsInOrder model path
            else
                loadWeights model path
                restoreOptimizerFrom model (fun () -> readWeightsFileOptimizer model path)

    /// A JSON string attribute of a legacy full-model HDF5 file, or None when the file does not have it.
    let private legacyAttribute (name: string) (path: string) : string option =
        if not (File.Exists path) then
            raise (FileNotFoundException($"No model file at '{path}'.", path))

        try
            use file = Hdf5Guard.openFile path

            match stringsAttribute file name with
            | [] -> None
            | parts -> Some(String.concat "" parts)
        with
        | :? KerasException -> reraise ()
        | HostileHdf5 reason -> fileError "load_model" path reason
        | ex -> fileError "load_model" path $"The file is not a readable HDF5 file: {ex.Message}"

    /// <summary>The <c>model_config</c> attribute of a legacy full-model HDF5 file (Keras 2's and Keras 3's
    /// <c>model.save("x.h5")</c>), or None when the file holds weights only.</summary>
    /// <exception cref="KerasException">When the file is not a readable HDF5 file, naming it.</exception>
    let internal legacyModelConfig (path: string) : string option = legacyAttribute "model_config" path

    /// <summary>The <c>training_config</c> attribute of a legacy full-model HDF5 file (how the model was compiled), or
    /// None when the model was saved uncompiled.</summary>
    let internal legacyTrainingConfig (path: string) : string option = legacyAttribute "training_config" path

/// <summary><c>model.SaveWeights(path)</c> and <c>model.LoadWeights(path)</c>, as in Keras.</summary>
[<AutoOpen>]
module WeightsFileExtensions =
    type Model with
        /// <summary>Saves the weights in Keras 3's <c>.weights.h5</c> layout (see <see cref="WeightsFile.saveWeights"/>).</summary>
        member model.SaveWeights(path: string) = WeightsFile.saveWeights model path

        /// <summary>Loads weights from a <c>.weights.h5</c> file, a <c>.keras</c> archive or a legacy <c>.h5</c> file
        /// (see <see cref="WeightsFile.load"/>).</summary>
        member model.LoadWeights(path: string) = WeightsFile.load model path
