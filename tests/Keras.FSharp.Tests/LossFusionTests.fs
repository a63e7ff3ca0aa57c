/// The fused loss paths (libtorch's cross_entropy) against the per-sample formulas they replace.
module LossFusionTests

open Expecto
open TorchSharp
open Keras
open TestData

[<Tests>]
let tests =
    testList
        "fused losses"
        [
            test "categorical cross-entropy from logits: fused value and gradient equal −Σ y·log_softmax(x), batch mean" {
                torch.manual_seed 13L |> ignore
                use logits = (torch.randn (6L, 5L) * 3.0f).requires_grad_ true
                // Soft targets that do not sum to one, one-hot rows, and float64 targets converted.
                use soft = torch.rand (6L, 5L)
                use oneHot = Utils.toCategorical (torch.tensor [| 0L; 4L; 2L; 2L; 1L; 3L |]) (Some 5)

                for targets in [ soft; oneHot; soft.to_type torch.ScalarType.Float64 ] do
                    use fused = Loss.compute (CategoricalCrossentropy true) targets logits None
                    let gradFused = torch.autograd.grad ([| fused |], [| logits |])
                    use perSample = Loss.perSample (CategoricalCrossentropy true) targets logits
                    use formula = perSample.mean ()
                    let gradFormula = torch.autograd.grad ([| formula |], [| logits |])
                    // The formula by hand: per row −Σ y·(x − logsumexp x).
                    let x = values logits
                    let y = values targets

                    let byHand =
                        [ 0..5 ]
                        |> List.averageBy (fun r ->
                            let row = x[r * 5 .. r * 5 + 4] |> Array.map float
                            let m = Array.max row
                            let lse = m + log (row |> Array.sumBy (fun v -> exp (v - m)))
                            -(Array.fold2 (fun acc yi xi -> acc + float yi * (xi - lse)) 0.0 y[r * 5 .. r * 5 + 4] row))

                    closeTo 1e-5f [| float32 byHand |] (values fused) "fused value by hand"
                    closeTo 1e-5f (values formula) (values fused) "fused value against the per-sample formula"
                    closeTo 1e-6f (values gradFormula[0]) (values gradFused[0]) "gradient against the per-sample formula"
            }

            test "binary cross-entropy from logits: fused value and gradient equal the stable per-element formula" {
                torch.manual_seed 17L |> ignore
                // Large logits of both signs (where a naive log(sigmoid) overflows), soft and hard targets, rank 2 and 3.
                use logits2 = (torch.randn (6L, 3L) * 20.0f).requires_grad_ true
                use logits3 = (torch.randn (2L, 4L, 3L) * 20.0f).requires_grad_ true

                for logits, targets in
                    [
                        logits2, torch.rand (6L, 3L)
                        logits2, torch.randint(2L, [| 6L; 3L |]).to_type torch.ScalarType.Float32
                        logits3, torch.rand (2L, 4L, 3L)
                    ] do
                    use fused = Loss.compute (BinaryCrossentropy true) targets logits None
                    let gradFused = torch.autograd.grad ([| fused |], [| logits |])
                    use formula = (Loss.perSample (BinaryCrossentropy true) targets logits).mean ()
                    let gradFormula = torch.autograd.grad ([| formula |], [| logits |])

                    // By hand, per element: max(x, 0) − x·y + log(1 + exp(−|x|)), then the mean.
                    let byHand =
                        Array.map2
                            (fun (x: float32) (y: float32) ->
                                let x, y = float x, float y
                                max x 0.0 - x * y + log (1.0 + exp (-(abs x))))
                            (values logits)
                            (values targets)
                        |> Array.average

                    closeTo 1e-4f [| float32 byHand |] (values fused) "fused value by hand"
                    closeTo 1e-5f (values formula) (values fused) "fused value against the per-sample formula"
                    closeTo 1e-6f (values gradFormula[0]) (values gradFused[0]) "gradient against the formula"
            }

            test "categorical cross-entropy from logits keeps Keras's target shape check on the fused path" {
                use logits = torch.randn (4L, 3L)
                use targets = torch.rand (4L, 5L)
                kerasError (fun () -> Loss.compute (CategoricalCrossentropy true) targets logits None) |> ignore
            }
        ]
