namespace Keras

/// <summary>Keras's <c>keras.utils.plot_model</c> and <c>model_to_dot</c> with its named options, and training
/// curves of a <see cref="History"/>.</summary>
[<AbstractClass; Sealed>]
type Plot =
    static member private Options
        (
            showShapes: bool option,
            showDtype: bool option,
            showLayerNames: bool option,
            rankdir: string option,
            expandNested: bool option,
            dpi: int option,
            showLayerActivations: bool option
        ) =
        let d = ModelDot.defaultOptions

        {
            ShowShapes = defaultArg showShapes d.ShowShapes
            ShowDtype = defaultArg showDtype d.ShowDtype
            ShowLayerNames = defaultArg showLayerNames d.ShowLayerNames
            RankDir = defaultArg rankdir d.RankDir
            ExpandNested = defaultArg expandNested d.ExpandNested
            Dpi = defaultArg dpi d.Dpi
            ShowLayerActivations = defaultArg showLayerActivations d.ShowLayerActivations
        }

    /// <summary>Draws a model (Keras's <c>plot_model</c>). A <c>.dot</c> file is written as Graphviz DOT text; a
    /// <c>.png</c>, <c>.svg</c> or <c>.pdf</c> also needs Graphviz's <c>dot</c> program, and without it the error
    /// says how to install it and where the DOT file was written.</summary>
    /// <param name="model">The model to draw.</param>
    /// <param name="toFile">The picture's file; "model.png" by default.</param>
    /// <param name="showShapes">Show input and output shapes; false by default.</param>
    /// <param name="showDtype">Show input and output dtypes; false by default.</param>
    /// <param name="showLayerNames">Show layer names; true by default.</param>
    /// <param name="rankdir">"TB" (top to bottom, the default) or "LR" (left to right).</param>
    /// <param name="expandNested">Draw nested models' layers in clusters; false by default.</param>
    /// <param name="dpi">PNG resolution; 200 by default.</param>
    /// <param name="showLayerActivations">Show activations; false by default.</param>
    /// <returns>The full path of the file written.</returns>
    /// <example><c>Plot.Model(model, "my_first_model_with_shape_info.png", showShapes = true)</c></example>
    static member Model
        (
            model: Model,
            ?toFile: string,
            ?showShapes: bool,
            ?showDtype: bool,
            ?showLayerNames: bool,
            ?rankdir: string,
            ?expandNested: bool,
            ?dpi: int,
            ?showLayerActivations: bool
        ) : string =
        let options =
            Plot.Options(showShapes, showDtype, showLayerNames, rankdir, expandNested, dpi, showLayerActivations)

        ModelDot.plot options (defaultArg toFile "model.png") model

    /// <summary>The Graphviz DOT text of a model (Keras's <c>model_to_dot</c>), with the options of
    /// <see cref="M:Keras.Plot.Model"/>.</summary>
    static member ModelToDot
        (
            model: Model,
            ?showShapes: bool,
            ?showDtype: bool,
            ?showLayerNames: bool,
            ?rankdir: string,
            ?expandNested: bool,
            ?dpi: int,
            ?showLayerActivations: bool
        ) : string =
        let options =
            Plot.Options(showShapes, showDtype, showLayerNames, rankdir, expandNested, dpi, showLayerActivations)

        ModelDot.toDot options model

    /// <summary>Draws training curves: one panel per loss or metric with training and validation values per epoch,
    /// to a PNG (or an SVG when <paramref name="toFile"/> ends in <c>.svg</c>).</summary>
    /// <param name="history">What <c>Fit</c> returned.</param>
    /// <param name="toFile">The picture's file.</param>
    /// <param name="width">Width in pixels; 640 by default.</param>
    /// <param name="panelHeight">Height of each panel in pixels; 360 by default.</param>
    /// <returns>The full path of the file written.</returns>
    static member History(history: History, toFile: string, ?width: int, ?panelHeight: int) : string =
        HistoryPlot.save (defaultArg width 640) (defaultArg panelHeight 360) toFile history

/// <summary>Plotting as methods: <c>history.Plot("curves.png")</c>.</summary>
[<AutoOpen>]
module PlotExtensions =
    type History with
        /// <summary>Draws the training curves to a PNG or SVG (see <see cref="M:Keras.Plot.History"/>).</summary>
        member history.Plot(toFile: string, ?width: int, ?panelHeight: int) =
            HistoryPlot.save (defaultArg width 640) (defaultArg panelHeight 360) toFile history
