/// Layers: shapes with Keras's run_layer_test helper, forward values against hand-computed numbers, errors.
module LayerTests

open Expecto
open TorchSharp
open Keras
open TestData

let private sym (shape: Shape) =
    CoreLayers.input None (Some shape) Float32 None

/// A Dense layer with the given kernel and bias, built for inputs of the kernel's row count.
let private denseWith (activation: Activation) (kernel: float32 list list) (bias: float32 list) =
    let layer = Layers.Dense(List.length bias, activation = activation)
    layer.Call(sym [ None; Some kernel.Length ]) |> ignore
    Layer.setWeights layer [ tensor2 kernel; torch.tensor (Array.ofList bias) ]
    layer

let private eager layer (x: torch.Tensor) =
    Layer.callEager layer false [ x ] |> List.exactlyOne

[<Tests>]
let tests =
    testList
        "Layers"
        [
            testList
                "run_layer_test"
                [
                    test "Dense" { runLayerTest (Layers.Dense(4)) [ [ None; Some 3 ] ] [ None; Some 4 ] 2 }
                    test "Dense on rank 3 applies to the last axis" {
                        runLayerTest (Layers.Dense(4)) [ [ None; Some 5; Some 3 ] ] [ None; Some 5; Some 4 ] 2
                    }
                    test "Dense without bias" {
                        runLayerTest (Layers.Dense(4, useBias = false)) [ [ None; Some 3 ] ] [ None; Some 4 ] 1
                    }
                    test "Activation" {
                        runLayerTest (Layers.Activation(Relu)) [ [ None; Some 3; Some 2 ] ] [ None; Some 3; Some 2 ] 0
                    }
                    test "Dropout" { runLayerTest (Layers.Dropout(0.5)) [ [ None; Some 7 ] ] [ None; Some 7 ] 0 }
                    test "Flatten" {
                        runLayerTest (Layers.Flatten()) [ [ None; Some 2; Some 3; Some 4 ] ] [ None; Some 24 ] 0
                    }
                    test "Flatten with an unknown axis" {
                        runLayerTest (Layers.Flatten()) [ [ None; None; Some 3 ] ] [ None; None ] 0
                    }
                    test "Reshape" {
                        runLayerTest (Layers.Reshape([ 4; 1 ])) [ [ None; Some 4 ] ] [ None; Some 4; Some 1 ] 0
                    }
                    test "Reshape with -1" {
                        runLayerTest (Layers.Reshape([ -1; 2 ])) [ [ None; Some 3; Some 4 ] ] [ None; Some 6; Some 2 ] 0
                    }
                    test "Add" { runLayerTest (Layers.Add()) [ [ None; Some 3 ]; [ None; Some 3 ] ] [ None; Some 3 ] 0 }
                    test "Subtract" {
                        runLayerTest (Layers.Subtract()) [ [ None; Some 3 ]; [ None; Some 3 ] ] [ None; Some 3 ] 0
                    }
                    test "Multiply of three" {
                        runLayerTest
                            (Layers.Multiply())
                            [ [ None; Some 3 ]; [ None; Some 3 ]; [ None; Some 3 ] ]
                            [ None; Some 3 ]
                            0
                    }
                    test "Average" {
                        runLayerTest (Layers.Average()) [ [ None; Some 3 ]; [ None; Some 3 ] ] [ None; Some 3 ] 0
                    }
                    test "Maximum" {
                        runLayerTest (Layers.Maximum()) [ [ None; Some 3 ]; [ None; Some 3 ] ] [ None; Some 3 ] 0
                    }
                    test "Minimum" {
                        runLayerTest (Layers.Minimum()) [ [ None; Some 3 ]; [ None; Some 3 ] ] [ None; Some 3 ] 0
                    }
                    test "Concatenate" {
                        runLayerTest (Layers.Concatenate()) [ [ None; Some 3 ]; [ None; Some 5 ] ] [ None; Some 8 ] 0
                    }
                    test "Concatenate on axis 1" {
                        runLayerTest
                            (Layers.Concatenate(axis = 1))
                            [ [ None; Some 2; Some 3 ]; [ None; Some 4; Some 3 ] ]
                            [ None; Some 6; Some 3 ]
                            0
                    }
                ]

            testList
                "forward values"
                [
                    test "Dense computes x·W + b then the activation" {
                        let layer = denseWith Relu [ [ 1.f; -1.f ]; [ 2.f; 0.5f ] ] [ 0.5f; -3.f ]
                        // [1, 2]·W = [1 + 4, -1 + 1] = [5, 0]; + b = [5.5, -3]; relu = [5.5, 0]
                        // [-1, 1]·W = [-1 + 2, 1 + 0.5] = [1, 1.5]; + b = [1.5, -1.5]; relu = [1.5, 0]
                        let y = eager layer (tensor2 [ [ 1.f; 2.f ]; [ -1.f; 1.f ] ])
                        closeTo 1e-6f [| 5.5f; 0.f; 1.5f; 0.f |] (values y) "Dense relu"
                    }

                    test "Dense on rank 3 equals Dense on each row" {
                        let layer =
                            denseWith Linear [ [ 1.f; 0.f; 2.f ]; [ 0.f; 1.f; -1.f ] ] [ 0.f; 0.f; 1.f ]

                        let x = torch.tensor([| 1.f; 2.f; 3.f; 4.f |]).reshape(1L, 2L, 2L)
                        // rows [1,2] -> [1, 2, 1]; [3,4] -> [3, 4, 3]
                        closeTo 1e-6f [| 1.f; 2.f; 1.f; 3.f; 4.f; 3.f |] (values (eager layer x)) "Dense rank 3"
                    }

                    test "Dense casts integer inputs to float32" {
                        let layer = denseWith Linear [ [ 2.f ] ] [ 1.f ]
                        let y = eager layer (torch.tensor([| 3L |]).reshape(1L, 1L))
                        Expect.equal y.dtype torch.ScalarType.Float32 "float32 output"
                        closeTo 0.f [| 7.f |] (values y) "2·3 + 1"
                    }

                    test "Activations match their formulas" {
                        let x = [| -2.f; -0.5f; 0.f; 1.f; 3.f |]
                        let t = torch.tensor x
                        let apply a = values (Activation.apply a t)
                        let sigmoid v = 1.f / (1.f + exp (-v))
                        closeTo 1e-6f x (apply Linear) "linear"
                        closeTo 1e-6f (x |> Array.map (max 0.f)) (apply Relu) "relu"
                        closeTo 1e-6f (x |> Array.map sigmoid) (apply Sigmoid) "sigmoid"
                        closeTo 1e-6f (x |> Array.map tanh) (apply Tanh) "tanh"
                        closeTo 1e-6f (x |> Array.map (fun v -> if v > 0.f then v else exp v - 1.f)) (apply Elu) "elu"

                        let selu v =
                            1.0507009873554805f
                            * (if v > 0.f then v else 1.6732632423543772f * (exp v - 1.f))

                        closeTo 1e-5f (x |> Array.map selu) (apply Selu) "selu"
                        closeTo 1e-6f (x |> Array.map (fun v -> log (1.f + exp v))) (apply Softplus) "softplus"

                        closeTo
                            1e-6f
                            (x |> Array.map (fun v -> v * sigmoid v))
                            (apply (Activation.ofName "silu"))
                            "swish"

                        closeTo
                            1e-6f
                            (x |> Array.map (fun v -> if v > 0.f then v else 0.2f * v))
                            (apply (Activation.ofName "leaky_relu"))
                            "leaky_relu"
                        // Exact GELU: x·Φ(x); Φ(1) = 0.8413447, Φ(-0.5) = 0.3085375, Φ(-2) = 0.0227501, Φ(3) = 0.9986501
                        closeTo
                            1e-5f
                            [| -2.f * 0.0227501f; -0.5f * 0.3085375f; 0.f; 0.8413447f; 3.f * 0.9986501f |]
                            (apply Gelu)
                            "gelu"

                        let e = x |> Array.map exp
                        closeTo 1e-6f (e |> Array.map (fun v -> v / Array.sum e)) (apply Softmax) "softmax"
                    }

                    test "Activation names resolve as Keras's" {
                        Expect.equal (Activation.ofName "relu") Relu "relu"
                        Expect.equal (Activation.ofName "swish") (Activation.ofName "silu") "swish is silu"
                        Expect.equal (Activation.ofName "leaky_relu") (LeakyRelu 0.2) "Keras's default slope"

                        let e =
                            Expect.throwsT<KerasException>
                                (fun () -> Activation.ofName "relu6" |> ignore)
                                "unknown name"

                        ignore e
                    }

                    test "Unknown activation names give an error listing the known ones" {
                        try
                            Activation.ofName "reluu" |> ignore
                            failtest "expected an error"
                        with :? KerasException as e ->
                            Expect.stringContains e.Message "'reluu'" "names what was received"
                            Expect.stringContains e.Message "leaky_relu" "lists the known names"
                    }

                    test "Dropout is the identity at inference and drops with scaling in training" {
                        let layer = Layers.Dropout(0.5)
                        let x = torch.ones (1000L, 10L)
                        closeTo 0.f (values x) (values (Layer.callEager layer false [ x ] |> List.head)) "inference"
                        let trained = values (Layer.callEager layer true [ x ] |> List.head)
                        Expect.all trained (fun v -> v = 0.f || v = 2.f) "kept values are scaled by 1/(1-rate)"
                        let dropped = trained |> Array.filter (fun v -> v = 0.f) |> Array.length
                        Expect.isTrue (dropped > 4500 && dropped < 5500) $"about half dropped (got {dropped} of 10000)"
                    }

                    test "Dropout rejects a rate outside [0, 1]" {
                        Expect.throwsT<KerasException> (fun () -> Layers.Dropout(1.5) |> ignore) "rate 1.5"
                    }

                    test "Flatten and Reshape keep row-major order" {
                        let x = torch.arange(12.f).reshape(2L, 2L, 3L)
                        closeTo 0.f (values x) (values (eager (Layers.Flatten()) x)) "flatten"
                        let r = eager (Layers.Reshape([ 3; -1 ])) x
                        Expect.equal r.shape [| 2L; 3L; 2L |] "reshape resolves -1"
                        closeTo 0.f (values x) (values r) "reshape keeps order"
                    }

                    test "Merge layers combine elementwise" {
                        let a = tensor2 [ [ 1.f; 5.f; -2.f ] ]
                        let b = tensor2 [ [ 3.f; 1.f; -4.f ] ]

                        let run layer =
                            values (Layer.callEager layer false [ a; b ] |> List.head)

                        closeTo 0.f [| 4.f; 6.f; -6.f |] (run (Layers.Add())) "add"
                        closeTo 0.f [| -2.f; 4.f; 2.f |] (run (Layers.Subtract())) "subtract"
                        closeTo 0.f [| 3.f; 5.f; 8.f |] (run (Layers.Multiply())) "multiply"
                        closeTo 0.f [| 2.f; 3.f; -3.f |] (run (Layers.Average())) "average"
                        closeTo 0.f [| 3.f; 5.f; -2.f |] (run (Layers.Maximum())) "maximum"
                        closeTo 0.f [| 1.f; 1.f; -4.f |] (run (Layers.Minimum())) "minimum"
                        closeTo 0.f [| 1.f; 5.f; -2.f; 3.f; 1.f; -4.f |] (run (Layers.Concatenate())) "concatenate"
                    }
                ]

            testList
                "errors"
                [
                    test "Dense called on a mismatched input names the layer, expectation and shape" {
                        let dense = Layers.Dense(64, name = "dense_1")
                        dense.Call(sym [ None; Some 784 ]) |> ignore

                        let e =
                            Expect.throwsT<KerasException>
                                (fun () -> dense.Call(sym [ None; Some 32 ]) |> ignore)
                                "mismatch"

                        ignore e

                        try
                            dense.Call(sym [ None; Some 32 ]) |> ignore
                        with :? KerasException as e ->
                            Expect.equal
                                e.Message
                                "Input 0 of layer \"dense_1\" is incompatible with the layer: expected axis -1 of input shape to have value 784, but received input with shape (None, 32)"
                                "Keras's wording"
                    }

                    test "Dense needs rank 2 and a known last axis" {
                        let err (f: unit -> unit) =
                            try
                                f ()
                                ""
                            with :? KerasException as e ->
                                e.Message

                        Expect.stringContains
                            (err (fun () -> Layers.Dense(2, name = "d_rank").Call(sym [ None ]) |> ignore))
                            "expected min_ndim=2, found ndim=1. Full shape received: (None,)"
                            "rank"

                        Expect.stringContains
                            (err (fun () -> Layers.Dense(2).Call(sym [ None; None ]) |> ignore))
                            "should be defined. Found `None`."
                            "unknown last axis"
                    }

                    test "Subtract takes exactly two inputs" {
                        let x = sym [ None; Some 2 ]
                        Expect.throwsT<KerasException> (fun () -> Layers.subtract [ x; x; x ] |> ignore) "three inputs"
                    }

                    test "Merge layers need at least two inputs" {
                        Expect.throwsT<KerasException>
                            (fun () -> Layers.add [ sym [ None; Some 2 ] ] |> ignore)
                            "one input"
                    }

                    test "Eager calls are checked too" {
                        let dense = Layers.Dense(2)
                        Layer.callEager dense false [ torch.ones (3L, 4L) ] |> ignore

                        Expect.throwsT<KerasException>
                            (fun () -> Layer.callEager dense false [ torch.ones (3L, 5L) ] |> ignore)
                            "built for 4 features"
                    }

                    test "Layer names are Keras's automatic names, unique per prefix" {
                        let a = Ids.uniqueName "layer_tests_prefix"
                        let b = Ids.uniqueName "layer_tests_prefix"
                        let c = Ids.uniqueName "layer_tests_prefix"

                        Expect.equal
                            [ a; b; c ]
                            [ "layer_tests_prefix"; "layer_tests_prefix_1"; "layer_tests_prefix_2" ]
                            "dense, dense_1, dense_2"

                        Expect.equal (Ids.snakeCase "GlobalMaxPooling2D") "global_max_pooling2d" "snake case"
                        Expect.equal (Ids.snakeCase "Conv2DTranspose") "conv2d_transpose" "snake case with digits"
                        Expect.equal (Ids.snakeCase "InputLayer") "input_layer" "input layer"
                        Expect.stringStarts (Layers.Dense(1).Name) "dense" "Dense's prefix"
                    }
                ]

            testList
                "weights"
                [
                    test "Dense weights follow Keras's initializers" {
                        let dense = Layers.Dense(300)
                        dense.Call(sym [ None; Some 200 ]) |> ignore

                        match Layer.weights dense with
                        | [ kernel; bias ] ->
                            Expect.equal (kernel.Name, bias.Name) ("kernel", "bias") "names"
                            Expect.equal kernel.Value.shape [| 200L; 300L |] "kernel (in, units)"
                            let limit = sqrt (6.f / 500.f)
                            let k = values kernel.Value
                            Expect.all k (fun v -> abs v <= limit) "glorot_uniform bound"
                            Expect.isTrue (Array.max k > 0.9f * limit && Array.min k < -0.9f * limit) "fills the range"
                            Expect.all (values bias.Value) (fun v -> v = 0.f) "zero bias"
                        | ws -> failtestf "expected kernel and bias, got %d weights" ws.Length
                    }

                    test "set_weights checks count and shapes" {
                        let dense = Layers.Dense(2)
                        dense.Call(sym [ None; Some 3 ]) |> ignore

                        Expect.throwsT<KerasException>
                            (fun () -> Layer.setWeights dense [ torch.ones (3L, 2L) ])
                            "missing bias"

                        Expect.throwsT<KerasException>
                            (fun () -> Layer.setWeights dense [ torch.ones (2L, 3L); torch.ones (2L) ])
                            "transposed kernel"
                    }

                    test "get_config uses Keras's names and defaults" {
                        let config = Layer.getConfig (Layers.Dense(64, activation = Relu, name = "hidden"))
                        let text (key: string) = config[key].GetValue<string>()
                        Expect.equal (text "name") "hidden" "name"
                        Expect.equal (config["units"].GetValue<int>()) 64 "units"
                        Expect.equal (text "activation") "relu" "activation"
                        Expect.isTrue (config["use_bias"].GetValue<bool>()) "use_bias"

                        Expect.equal
                            (config["kernel_initializer"].["class_name"].GetValue<string>())
                            "GlorotUniform"
                            "kernel_initializer"

                        Expect.equal
                            (config["bias_initializer"].["class_name"].GetValue<string>())
                            "Zeros"
                            "bias_initializer"
                    }
                ]
        ]
