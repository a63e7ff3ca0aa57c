/// Shape rules: formatting, and FsCheck properties of each layer's shape inference and its errors.
module ShapeTests

open Expecto
open FsCheck
open FsCheck.FSharp
open Keras

let private sym (shape: Shape) =
    CoreLayers.input None (Some shape) Float32 None

/// Raises unless the action throws a KerasException whose message contains the text.
let private throwsKeras (text: string) (action: unit -> 'a) =
    try
        action () |> ignore
        false
    with :? KerasException as e ->
        e.Message.Contains text

let private dim = Gen.choose (1, 6)

let private sampleShape =
    Gen.choose (1, 4) |> Gen.bind (fun r -> Gen.listOfLength r dim)

let private property name (arb: Arbitrary<'a>) (check: 'a -> bool) =
    testProperty name (Prop.forAll arb check)

[<Tests>]
let tests =
    testList
        "Shapes"
        [
            test "Shape.format prints Python tuples" {
                Expect.equal (Shape.format [ None; Some 784 ]) "(None, 784)" "two dims"
                Expect.equal (Shape.format [ None ]) "(None,)" "one dim keeps the trailing comma"
                Expect.equal (Shape.format []) "()" "scalar"
            }

            property
                "Dense keeps every dimension but the last"
                (Arb.fromGen (Gen.zip sampleShape (Gen.choose (1, 9))))
                (fun (dims, units) ->
                    let out =
                        Layer.call
                            (CoreLayers.dense (CoreLayers.DenseConfig.Default units) None)
                            (sym (Shape.batchOf dims))

                    out.Shape = None :: (List.take (dims.Length - 1) (Shape.ofInts dims)) @ [ Some units ])

            property
                "Concatenate sums the concatenation axis and keeps the others"
                (Arb.fromGen (
                    gen {
                        let! shape = sampleShape
                        let! axis = Gen.choose (1, shape.Length)
                        let! sizes = Gen.choose (2, 4) |> Gen.bind (fun n -> Gen.listOfLength n dim)
                        return shape, axis, sizes
                    }
                ))
                (fun (shape, axis, sizes) ->
                    let inputs =
                        sizes
                        |> List.map (fun s ->
                            sym (None :: (shape |> List.mapi (fun i d -> Some(if i + 1 = axis then s else d)))))

                    let out = Layers.concatenate (inputs, axis = axis)

                    out.Shape[axis] = Some(List.sum sizes)
                    && (out.Shape |> List.removeAt axis) = (None :: Shape.ofInts shape |> List.removeAt axis))

            property "Flatten preserves the number of elements per sample" (Arb.fromGen sampleShape) (fun dims ->
                let out = Layers.Flatten().Call(sym (Shape.batchOf dims))
                out.Shape = [ None; Some(List.fold (*) 1 dims) ])

            property
                "Reshape preserves the number of elements and resolves -1"
                (Arb.fromGen (
                    gen {
                        let! dims = sampleShape
                        let! target = Gen.shuffle (Array.ofList dims)
                        let! hole = Gen.choose (0, dims.Length - 1)
                        return dims, List.ofArray target, hole
                    }
                ))
                (fun (dims, target, hole) ->
                    let withHole = target |> List.mapi (fun i d -> if i = hole then -1 else d)
                    let out = Layers.Reshape(withHole).Call(sym (Shape.batchOf dims))
                    out.Shape = Shape.batchOf target)

            property
                "Reshape to a different element count is an error"
                (Arb.fromGen (Gen.zip sampleShape dim))
                (fun (dims, extra) ->
                    let target = dims @ [ extra + 1 ]

                    throwsKeras "The total size of the tensor must be unchanged" (fun () ->
                        Layers.Reshape(target).Call(sym (Shape.batchOf dims))))

            property
                "Dense rejects an input whose last axis differs from the one it was built with"
                (Arb.fromGen (Gen.zip dim dim))
                (fun (a, b) ->
                    let dense = Layers.Dense(3)
                    dense.Call(sym (Shape.batchOf [ a ])) |> ignore

                    a = b
                    || throwsKeras
                        $"expected axis -1 of input shape to have value {a}, but received input with shape (None, {b})"
                        (fun () -> dense.Call(sym (Shape.batchOf [ b ]))))

            property
                "Elementwise merges reject incompatible shapes"
                (Arb.fromGen (Gen.zip (Gen.choose (2, 6)) (Gen.choose (2, 6))))
                (fun (a, b) ->
                    a = b
                    || [
                        Layers.Add()
                        Layers.Subtract()
                        Layers.Multiply()
                        Layers.Average()
                        Layers.Maximum()
                        Layers.Minimum()
                       ]
                       |> List.forall (fun layer ->
                           throwsKeras
                               $"Inputs have incompatible shapes. Received shapes ({a},) and ({b},)"
                               (fun () -> layer.Call [ sym [ None; Some a ]; sym [ None; Some b ] ])))

            property
                "Concatenate rejects inputs that differ off the axis"
                (Arb.fromGen (Gen.zip (Gen.choose (2, 6)) (Gen.choose (2, 6))))
                (fun (a, b) ->
                    a = b
                    || throwsKeras "requires inputs with matching shapes except for the concatenation axis" (fun () ->
                        Layers.concatenate [ sym [ None; Some a; Some 3 ]; sym [ None; Some b; Some 4 ] ]))

            property "Elementwise merge broadcasting: size 1 and unknown sizes give way" (Arb.fromGen dim) (fun d ->
                (Layers.add [ sym [ None; Some 1; Some d ]; sym [ None; Some 5; Some d ] ]).Shape =
                    [ None; Some 5; Some d ]
                && (Layers.add [ sym [ None; None; Some d ]; sym [ None; Some 5; Some d ] ]).Shape =
                    [ None; None; Some d ])
        ]
