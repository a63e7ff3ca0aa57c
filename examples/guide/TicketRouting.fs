/// The guide's "Manipulate complex graph topologies": the ticket-routing model with three inputs and two outputs,
/// plotted, compiled with a list and with a dict of losses, trained on the guide's random data.
module Examples.TicketRouting

open TorchSharp
open Keras
open Keras.Operators
open Examples.Example

let numTags = 12 // Number of unique issue tags
let numWords = 10000 // Size of vocabulary obtained when preprocessing text data
let numDepartments = 4 // Number of departments for predictions

let build () =
    let titleInput = Keras.Input(shape = [ Dim.Unknown ], name = "title", dtype = Int64) // Variable-length sequence of ints
    let bodyInput = Keras.Input(shape = [ Dim.Unknown ], name = "body", dtype = Int64) // Variable-length sequence of ints
    let tagsInput = Keras.Input(shape = [ numTags ], name = "tags") // Binary vectors of size `num_tags`

    // Embed each word in the title into a 64-dimensional vector, reduce the sequence into a single 128-dimensional vector
    let titleFeatures =
        titleInput --> Layers.Embedding(numWords, 64) --> Layers.LSTM(128)

    let bodyFeatures = bodyInput --> Layers.Embedding(numWords, 64) --> Layers.LSTM(32)
    // Merge all available features into a single large vector via concatenation
    let x = Layers.concatenate [ titleFeatures; bodyFeatures; tagsInput ]
    // Stick a logistic regression for priority prediction on top of the features
    let priorityPred = x --> Layers.Dense(1, name = "priority")
    // Stick a department classifier on top of the features
    let departmentPred = x --> Layers.Dense(numDepartments, name = "department")

    Keras.Model([ titleInput; bodyInput; tagsInput ], [ "priority", priorityPred; "department", departmentPred ])

let main (run: Run) =
    Utils.setRandomSeed 7
    let model = build ()
    plot run model "multi_input_and_output_model.png" true

    // Losses as a list, in output order ...
    let _ =
        model.Compile(
            optimizer = Optimizers.RMSprop(learningRate = 1e-3),
            lossList = [ BinaryCrossentropy true; CategoricalCrossentropy true ],
            lossWeightList = [ 1.0; 0.2 ]
        )

    // ... or, since the outputs are named, as a dict.
    let compiled =
        model.Compile(
            optimizer = Optimizers.RMSprop(learningRate = 1e-3),
            losses =
                [
                    "priority", BinaryCrossentropy true
                    "department", CategoricalCrossentropy true
                ],
            lossWeights = [ "priority", 1.0; "department", 0.2 ]
        )

    // Dummy input data
    let samples = if run.Quick then 64L else 1280L
    let titleData = torch.randint (int64 numWords, [| samples; 12L |])
    let bodyData = torch.randint (int64 numWords, [| samples; 100L |])

    let tagsData =
        torch.randint(2L, [| samples; int64 numTags |]).to_type torch.ScalarType.Float32
    // Dummy target data
    let priorityTargets = torch.rand (samples, 1L)

    let deptTargets =
        torch.randint(2L, [| samples; int64 numDepartments |]).to_type torch.ScalarType.Float32

    let history =
        compiled.Fit(
            Data.Of [ "title", titleData; "body", bodyData; "tags", tagsData ],
            Data.Of [ "priority", priorityTargets; "department", deptTargets ],
            epochs = (if run.Quick then 1 else 2),
            batchSize = 32,
            verbose = (if run.Quick then 0 else 1)
        )

    run.Print $"""final loss: %.4f{List.last history["loss"]}"""
    model, history
