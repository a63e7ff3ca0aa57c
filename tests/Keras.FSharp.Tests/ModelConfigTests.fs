/// Keras 3's functional model config: get_config in Keras's schema, from_config with custom objects and the global
/// registry, Lambda layers serialized by registered name only, and the errors for what cannot be rebuilt.
module ModelConfigTests

open System.Collections.Generic
open System.Text.Json.Nodes
open Expecto
open TorchSharp
open Keras
open Keras.Operators
open TestData
open CustomLayerTests

let private json (node: JsonNode) = node.ToJsonString()

let private keys (o: JsonObject) = o |> Seq.map _.Key |> List.ofSeq

let private customObjects (entries: (string * CustomObject) list) : IDictionary<string, CustomObject> = dict entries

/// Copies weights from one model to an architecturally equal one and compares predictions on random data.
let private samePredictions (original: Model) (rebuilt: Model) (inputs: torch.Tensor list) =
    Layer.setWeights rebuilt.AsLayer (Layer.getWeights original.AsLayer)

    List.iter2
        (fun (a: torch.Tensor) (b: torch.Tensor) ->
            closeTo 1e-5f (values a) (values b) "predictions of the rebuilt model")
        (Model.predictMany original 32 inputs)
        (Model.predictMany rebuilt 32 inputs)

[<Tests>]
let tests =
    testList
        "ModelConfig"
        [
            test "the guide: get_config, then from_config with custom_objects={'CustomDense': CustomDense}" {
                let inputs = Keras.Input(shape = [ 4 ])
                let outputs = inputs --> customDense 10
                let model = Keras.Model(inputs, outputs)
                let config = model.GetConfig()

                let newModel =
                    Model.fromConfig
                        config
                        (customObjects [ "CustomDense", LayerClass(fun c -> customDense (c.Int "units")) ])

                Expect.equal (json (Model.getConfig newModel)) (json config) "the rebuilt model has the same config"

                Expect.equal
                    (newModel.Layers |> List.map (fun l -> l.Name, l.ClassName))
                    (model.Layers |> List.map (fun l -> l.Name, l.ClassName))
                    "same layers"

                Expect.equal (newModel.CountParams()) 50L "50 parameters"

                Expect.isFalse
                    (obj.ReferenceEquals((Model.weights newModel).Head.Value, (Model.weights model).Head.Value))
                    "fresh weights"

                samePredictions model newModel [ torch.randn (5L, 4L) ]
            }

            test "the config follows Keras 3's functional schema" {
                let inputs = Keras.Input(shape = [ 4 ], name = "features")
                let layer = customDense 10
                let model = Keras.Model(inputs, inputs --> layer, name = "guide_model")
                let config = Model.getConfig model

                Expect.equal
                    (keys config)
                    [ "name"; "trainable"; "layers"; "input_layers"; "output_layers" ]
                    "top-level keys"

                Expect.equal (json (config["name"])) "\"guide_model\"" "name"
                // Keras 3.1.1 writes a single input or output as a list of one (its reader needs the list).
                Expect.equal (json (config["input_layers"])) """[["features",0,0]]""" "input_layers"
                Expect.equal (json (config["output_layers"])) $"""[["{layer.Name}",0,0]]""" "output_layers"

                let input = (config.["layers"].[0]).AsObject()

                Expect.equal
                    (keys input)
                    [ "module"; "class_name"; "config"; "registered_name"; "name"; "inbound_nodes" ]
                    "input layer keys"

                Expect.equal
                    (json (input["config"]))
                    """{"batch_shape":[null,4],"dtype":"float32","sparse":false,"name":"features"}"""
                    "InputLayer config"

                Expect.equal (json (input["inbound_nodes"])) "[]" "an input has no inbound node"

                let custom = (config.["layers"].[1]).AsObject()

                Expect.equal
                    (keys custom)
                    [
                        "module"
                        "class_name"
                        "config"
                        "registered_name"
                        "build_config"
                        "name"
                        "inbound_nodes"
                    ]
                    "layer keys"

                Expect.equal (json (custom["module"])) "\"__main__\"" "module of a custom class"
                Expect.equal (json (custom["class_name"])) "\"CustomDense\"" "class_name"
                Expect.equal (json (custom["registered_name"])) "\"CustomDense\"" "registered_name"

                Expect.equal
                    (json (custom["config"]))
                    $"""{{"name":"{layer.Name}","trainable":true,"dtype":"float32","units":10}}"""
                    "get_config"

                Expect.equal (json (custom["build_config"])) """{"input_shape":[null,4]}""" "build_config"

                Expect.equal
                    (json (custom["inbound_nodes"]))
                    """[{"args":[{"class_name":"__keras_tensor__","config":{"shape":[null,4],"dtype":"float32","keras_history":["features",0,0]}}],"kwargs":{}}]"""
                    "inbound_nodes"
            }

            test "built-in layers, a shared layer, merges and named outputs round-trip" {
                let a = Keras.Input(shape = [ 4 ], name = "a")
                let b = Keras.Input(shape = [ 4 ], name = "b")

                let shared =
                    Layers.Dense(4, activation = "relu", kernelInitializer = HeNormal, name = "shared")
                // A call outside the model: Keras renumbers the model's nodes of `shared` from 0.
                shared.Call(Keras.Input(shape = [ 4 ])) |> ignore
                let sa = a --> shared
                let sb = b --> shared
                let added = [ sa; sb ] --> Layers.Add(name = "add")
                let merged = [ added; a ] --> Layers.Concatenate(name = "concat")

                let reshaped =
                    merged
                    --> Layers.Reshape([ 2; 4 ], name = "reshape")
                    --> Layers.Flatten(name = "flatten")

                let first =
                    reshaped
                    --> Layers.Dropout(0.5, name = "dropout")
                    --> Layers.Dense(3, useBias = false, name = "first")

                let second =
                    [ sa; sb ]
                    --> Layers.Subtract(name = "sub")
                    --> Layers.Activation(Sigmoid, name = "sigmoid")

                let model =
                    Keras.Model([ a; b ], [ "first", first; "second", second ], name = "merged")

                let config = Model.getConfig model

                let sharedEntry =
                    config["layers"].AsArray()
                    |> Seq.find (fun l -> json (l["name"]) = "\"shared\"")

                Expect.equal
                    (sharedEntry["inbound_nodes"].AsArray().Count)
                    2
                    "two calls of the shared layer in the model"

                let addArgs =
                    config.["layers"].AsArray()
                    |> Seq.find (fun l -> json (l.["name"]) = "\"add\"")
                    |> fun l -> l.["inbound_nodes"].[0].["args"]

                Expect.equal
                    (json (addArgs.[0].[0].["config"].["keras_history"]))
                    """["shared",0,0]"""
                    "first call, renumbered"

                Expect.equal (json (addArgs.[0].[1].["config"].["keras_history"])) """["shared",1,0]""" "second call"
                Expect.equal (json (config["input_layers"])) """[["a",0,0],["b",0,0]]""" "two inputs"

                Expect.equal
                    (json (config["output_layers"]))
                    """{"first":["first",0,0],"second":["sigmoid",0,0]}"""
                    "named outputs"

                let rebuilt = Model.fromConfig config CustomObjects.none
                Expect.equal (json (Model.getConfig rebuilt)) (json config) "same config"
                Expect.equal (Model.outputNames rebuilt) [ "first"; "second" ] "output names"
                samePredictions model rebuilt [ torch.randn (6L, 4L); torch.randn (6L, 4L) ]
            }

            test "from_config finds custom classes in the global registry; unknown classes are refused" {
                let scale (factor: float) =
                    CustomLayer.Create(
                        "GlobalScaleForConfigTest",
                        config = [ "factor", factor ],
                        build = (fun b -> b.AddWeight("gain", [ b.Dim -1 ], Ones, trainable = false)),
                        call = fun self x -> x * self["gain"] * float32 factor
                    )

                let inputs = Keras.Input(shape = [ 3 ])
                let model = Keras.Model(inputs, inputs --> scale 2.5)
                let config = Model.getConfig model

                throwsKeras [ "Could not locate class 'GlobalScaleForConfigTest'"; "customObjects" ] (fun () ->
                    Model.fromConfig config CustomObjects.none)

                CustomObjects.register "GlobalScaleForConfigTest" (fun c -> scale (c.Float "factor"))

                try
                    let rebuilt = Model.fromConfig config CustomObjects.none
                    Expect.equal (json (Model.getConfig rebuilt)) (json config) "same config"
                    Expect.equal (Model.nonTrainableWeights rebuilt |> List.length) 1 "the non-trainable weight"

                    closeTo
                        1e-6f
                        [| 2.5f; 5.0f; 7.5f |]
                        (values (rebuilt.Predict(torch.tensor([| 1.0f; 2.0f; 3.0f |]).reshape(1L, 3L))))
                        "factor from the config"
                finally
                    CustomObjects.unregister "GlobalScaleForConfigTest"

                let conv = Keras.Input(shape = [ 8; 2 ])
                let convModel = Keras.Model(conv, conv --> Layers.Conv1D(2, 3))

                let rebuiltConv = Model.fromConfig (Model.getConfig convModel) CustomObjects.none

                Expect.equal
                    (json (Model.getConfig rebuiltConv))
                    (json (Model.getConfig convModel))
                    "Conv1D is built in"

                // MelSpectrogram: a Keras built-in class the library does not implement (Rescaling is built in since issue 13).
                let withMelSpectrogram = Model.getConfig convModel
                let convEntry = (withMelSpectrogram["layers"] :?> JsonArray).[1] :?> JsonObject
                convEntry["class_name"] <- JsonValue.Create "MelSpectrogram"

                throwsKeras [ "'MelSpectrogram' is a Keras built-in layer class"; "not a missing custom object" ] (fun () ->
                    Model.fromConfig withMelSpectrogram CustomObjects.none)
            }

            test "Lambda layers round-trip by registered function name; anonymous or unregistered functions are refused" {
                let inputs = Keras.Input(shape = [ 3 ])

                let squared =
                    Lambda.Create((fun x -> x * x), functionName = "square_for_config_test")

                let model = Keras.Model(inputs, inputs --> squared --> Layers.Dense(2))
                let config = Model.getConfig model
                let lambdaEntry = config.["layers"].[1]
                Expect.equal (json (lambdaEntry["module"])) "\"keras.layers\"" "Lambda is a built-in class"

                Expect.equal
                    (json (lambdaEntry.["config"].["function"]))
                    """{"module":"__main__","class_name":"function","config":"square_for_config_test","registered_name":"square_for_config_test"}"""
                    "the function by name"

                throwsKeras [ "Unknown function 'square_for_config_test'" ] (fun () ->
                    Model.fromConfig config CustomObjects.none)

                let viaCustomObjects =
                    Model.fromConfig config (customObjects [ "square_for_config_test", Function(fun x -> x * x) ])

                samePredictions model viaCustomObjects [ torch.randn (4L, 3L) ]

                CustomObjects.registerFunction "square_for_config_test" (fun x -> x * x)

                try
                    let viaRegistry = Model.fromConfig config CustomObjects.none
                    Expect.equal (json (Model.getConfig viaRegistry)) (json config) "same config"
                    let registered = Lambda.Registered("square_for_config_test")
                    closeTo 1e-6f [| 4.0f |] (values (registered.Call(torch.tensor ([| 2.0f |])))) "Lambda.Registered"
                finally
                    CustomObjects.unregister "square_for_config_test"

                let anonymous = Keras.Model(inputs, inputs --> Lambda.Create(fun x -> x + 1.0f))
                let anonymousConfig = Model.getConfig anonymous

                Expect.equal
                    (json (anonymousConfig.["layers"].[1].["config"].["function"].["class_name"]))
                    "\"__lambda__\""
                    "written as Keras writes a lambda"

                throwsKeras [ "anonymous function"; "never deserialized" ] (fun () ->
                    Model.fromConfig anonymousConfig (customObjects [ "__lambda__", Function id ]))
            }

            test "a nested functional model is rebuilt from Keras's config (its calls numbered from 1)" {
                let innerInput = Keras.Input(shape = [ 3 ], name = "inner_in")

                let inner =
                    Keras.Model(innerInput, innerInput --> Layers.Dense(2, name = "inner_dense"), name = "inner")

                let tensor (layer: string) (node: int) : JsonNode =
                    JsonNode.Parse(
                        $"""{{"class_name":"__keras_tensor__","config":{{"shape":[null,3],"dtype":"float32","keras_history":["{layer}",{node},0]}}}}"""
                    )

                let config =
                    JsonNode
                        .Parse(
                            """{"name":"outer","trainable":true,"layers":[
                               {"module":"keras.layers","class_name":"InputLayer","config":{"batch_shape":[null,3],"dtype":"float32","sparse":false,"name":"outer_in"},"registered_name":null,"name":"outer_in","inbound_nodes":[]},
                               {"module":"keras.src.models.functional","class_name":"Functional","config":null,"registered_name":"Functional","name":"inner","inbound_nodes":[{"args":[null],"kwargs":{}}]},
                               {"module":"keras.layers","class_name":"Dense","config":{"name":"head","trainable":true,"dtype":{"module":"keras","class_name":"DTypePolicy","config":{"name":"float32"},"registered_name":null},"units":1,"activation":"linear","use_bias":true},"registered_name":null,"name":"head","inbound_nodes":[{"args":[null],"kwargs":{}}]}],
                             "input_layers":[["outer_in",0,0]],"output_layers":[["head",0,0]]}"""
                        )
                        .AsObject()

                let layers = config["layers"].AsArray()
                layers.[1].["config"] <- Model.getConfig inner
                layers.[1].["inbound_nodes"].[0].["args"].[0] <- tensor "outer_in" 0
                layers.[2].["inbound_nodes"].[0].["args"].[0] <- tensor "inner" 1
                let outer = Model.fromConfig config CustomObjects.none
                Expect.equal (outer.Layers |> List.map _.ClassName) [ "InputLayer"; "Functional"; "Dense" ] "layers"
                Expect.equal (outer.CountParams()) (3L * 2L + 2L + 3L) "nested weights count"
                Expect.equal outer.Outputs.Head.Shape [ None; Some 1 ] "output"
                Expect.equal (Model.outputNames outer) [ "head" ] "a list of one output"

                let written = Model.getConfig outer

                Expect.stringContains
                    (written.ToJsonString())
                    "\"keras_history\":[\"inner\",1,0]"
                    "calls numbered from 1"

                let again = Model.getConfig (Model.fromConfig written CustomObjects.none)
                Expect.equal (again.ToJsonString()) (written.ToJsonString()) "the nested model's config round-trips"
            }

            test "the guide's CustomRNN model serializes with its build shape" {
                let inputs = Keras.Input(batchShape = [ 16; 10; 5 ])
                let rnn = customRnn 32 (Choice2Of2(Layers.Dense(1))) (ResizeArray())
                let model = Keras.Model(inputs, inputs --> Layers.Conv1D(32, 3) --> rnn)
                let entry = (Model.getConfig model).["layers"].[2]
                Expect.equal (json (entry["class_name"])) "\"CustomRNN\"" "class"

                Expect.equal
                    (json (entry["build_config"]))
                    """{"input_shape":[16,8,32]}"""
                    "static batch in the build shape"

                Expect.equal (json (entry.["config"].["units"])) "32" "units"
            }
        ]
