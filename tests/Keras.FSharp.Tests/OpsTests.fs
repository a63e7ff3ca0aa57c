/// Ops: shape-checked versions of TorchSharp operations that abort the process on bad shapes.
module OpsTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open Keras
open Keras.Operators
open TestData

/// Operand shapes that torch.matmul accepts, built by its rules (vectors, matrices, broadcast batches), with the
/// result shape the rules give.
let private validPairs =
    gen {
        let! m, k, n = Gen.zip3 (Gen.choose (1, 4)) (Gen.choose (1, 4)) (Gen.choose (1, 4))
        let! batchRank = Gen.choose (0, 2)
        let! batch = Gen.listOfLength batchRank (Gen.choose (2, 3))
        // Each batch axis of an operand is the batch size or 1 (broadcast), or missing on the shorter operand.
        let! aOnes = Gen.listOfLength batchRank (Gen.elements [ false; true ])
        let! bOnes = Gen.listOfLength batchRank (Gen.elements [ false; true ])
        let! aDrop, bDrop = Gen.zip (Gen.choose (0, batchRank)) (Gen.choose (0, batchRank))

        let! aVector, bVector =
            Gen.zip (Gen.elements [ false; false; true ]) (Gen.elements [ false; false; true ])

        let l = List.map int64

        let batchOf (ones: bool list) (drop: int) =
            List.map2 (fun d one -> if one then 1 else d) batch ones |> List.skip drop

        let aBatch = if aVector then [] else batchOf aOnes aDrop
        let bBatch = if bVector then [] else batchOf bOnes bDrop
        let a = if aVector then [ k ] else aBatch @ [ m; k ]
        let b = if bVector then [ k ] else bBatch @ [ k; n ]
        return Array.ofList (l a), Array.ofList (l b)
    }

[<Tests>]
let tests =
    testList
        "Ops"
        [
            testProperty "matmulShape accepts what torch.matmul accepts, with torch.matmul's result shape"
            <| Prop.forAll (Arb.fromGen validPairs) (fun (a, b) ->
                match Ops.matmulShape a b with
                | Ok shape -> shape = (torch.matmul (torch.zeros a, torch.zeros b)).shape
                | Error message -> failwithf "refused %A · %A: %s" a b message)

            testProperty "matmulShape refuses contracted sizes that differ, and never calls libtorch for them"
            <| Prop.forAll (Arb.fromGen (Gen.zip validPairs (Gen.choose (1, 3)))) (fun ((a, b), extra) ->
                // Growing a's contracted axis makes the pair invalid; a libtorch call would abort the process.
                let a' = Array.copy a
                a'[a'.Length - 1] <- a'[a'.Length - 1] + int64 extra

                match Ops.matmulShape a' b with
                | Error message -> message.Contains "cannot be multiplied"
                | Ok _ -> false)

            test "batch dimensions that do not broadcast are refused" {
                let result = Ops.matmulShape [| 2L; 3L; 4L |] [| 5L; 4L; 2L |]
                Expect.isError result "2 and 5 do not broadcast"
            }

            test "Ops.matmul raises an ArgumentException with both shapes instead of aborting the process" {
                let message =
                    try
                        Ops.matmul (torch.zeros (4L, 3L, 5L)) (torch.zeros (4L, 6L, 2L)) |> ignore
                        failtest "expected an ArgumentException"
                    with :? ArgumentException as e ->
                        e.Message

                Expect.stringContains message "(4, 3, 5) and (4, 6, 2)" "both shapes"
            }

            test "a custom layer multiplying mismatched shapes with Ops.matmul fails as a KerasException naming it" {
                let layer =
                    CustomLayer.Create(
                        "Mixer",
                        // Right for the 2-row trial call that infers shapes, wrong for 3 rows.
                        call = (fun _ x -> Ops.matmul x (torch.ones ((if x.shape[0] = 3L then 5L else 4L), 2L))),
                        outputShape = (fun s -> [ s.Head; Some 2 ]),
                        name = "mixer"
                    )

                let inputs = Keras.Input(shape = [ 4 ])
                let model = Keras.Model(inputs, inputs --> layer)

                let message =
                    try
                        model.Predict(torch.rand (3L, 4L)) |> ignore
                        failtest "expected a KerasException"
                    with :? KerasException as e ->
                        e.Message

                Expect.stringContains message "\"mixer\"" "names the layer"
                Expect.stringContains message "(3, 4) and (5, 2)" "both shapes"
            }
        ]
