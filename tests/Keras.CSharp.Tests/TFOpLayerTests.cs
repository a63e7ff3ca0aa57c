// tf.keras 2 op layers (TFOpLambda, SlicingOpLambda) loaded from a model.to_json() config through the facade.
using System;
using System.Linq;
using Keras.CSharp;
using TorchSharp;
using Xunit;

namespace Keras.CSharp.Tests;

public class TFOpLayerTests
{
    private static string OpLayer(string className, string name, string function, string inbound) =>
        $$"""{"class_name": "{{className}}", "config": {"name": "{{name}}", "trainable": true, "dtype": "float32", "function": "{{function}}"}, "name": "{{name}}", "inbound_nodes": {{inbound}}}""";

    /// <summary>x = Input((4,)); d = Dense(4)(x); y = tf.math.reduce_sum((d * 2.0 + x)[:, 1:3], axis=1, keepdims=True)</summary>
    private static string Config(string multiplyFunction = "math.multiply")
    {
        var layers = new[]
        {
            """{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}, "name": "input_1", "inbound_nodes": []}""",
            """{"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 4, "activation": "linear", "use_bias": true, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}, "name": "dense", "inbound_nodes": [[["input_1", 0, 0, {}]]]}""",
            OpLayer("TFOpLambda", "tf.math.multiply", multiplyFunction, """[["dense", 0, 0, {"y": 2.0, "name": null}]]"""),
            OpLayer("TFOpLambda", "tf.__operators__.add", "__operators__.add", """[["tf.math.multiply", 0, 0, {"y": ["input_1", 0, 0], "name": null}]]"""),
            OpLayer("SlicingOpLambda", "tf.__operators__.getitem", "__operators__.getitem", """[["tf.__operators__.add", 0, 0, {"slice_spec": [{"start": null, "stop": null, "step": null}, {"start": 1, "stop": 3, "step": null}]}]]"""),
            OpLayer("TFOpLambda", "tf.math.reduce_sum", "math.reduce_sum", """[["tf.__operators__.getitem", 0, 0, {"axis": 1, "keepdims": true, "name": null}]]"""),
        };
        return $$"""{"class_name": "Functional", "config": {"name": "model", "trainable": true, "layers": [{{string.Join(", ", layers)}}], "input_layers": [["input_1", 0, 0]], "output_layers": [["tf.math.reduce_sum", 0, 0]]}, "keras_version": "2.15.0", "backend": "tensorflow"}""";
    }

    [Fact]
    public void ModelFromJsonComputesTheOpLayers()
    {
        var model = KerasApi.ModelFromJson(Config());
        Assert.Equal("SlicingOpLambda", model.GetLayer("tf.__operators__.getitem").ClassName);
        Assert.Equal(20L, model.CountParams());

        var kernel = Enumerable.Range(0, 16).Select(i => (float)Math.Sin(0.5 * i)).ToArray();
        var bias = new[] { 0.1f, -0.2f, 0.3f, -0.4f };
        model.GetLayer("dense").SetWeights(torch.tensor(kernel).reshape(4, 4), torch.tensor(bias));

        var x = Enumerable.Range(0, 12).Select(i => (float)Math.Cos(0.3 * i)).ToArray();
        var result = model.Predict(torch.tensor(x).reshape(3, 4));
        Assert.Equal(new long[] { 3, 1 }, result.shape);
        var actual = result.data<float>().ToArray();

        for (var s = 0; s < 3; s++)
        {
            var expected = 0.0;
            for (var j = 1; j < 3; j++)
            {
                var d = (double)bias[j];
                for (var k = 0; k < 4; k++) d += x[s * 4 + k] * kernel[k * 4 + j];
                expected += d * 2.0 + x[s * 4 + j];
            }
            Assert.Equal(expected, actual[s], 4);
        }
    }

    [Fact]
    public void AnUnsupportedOpNamesTheOpAndTheLayer()
    {
        var e = Assert.Throws<KerasException>(() => KerasApi.ModelFromJson(Config("math.bessel_i0")));
        Assert.Contains("tf.math.bessel_i0", e.Message);
        Assert.Contains("'tf.math.multiply'", e.Message);
    }

    /// <summary>Issue 13: comparisons, tf.where and a bool cast:
    /// y = tf.where(tf.math.greater(d, 0.0), d, 0.1 * d) + tf.cast(tf.math.less_equal(x, 0.0), "float32")</summary>
    [Fact]
    public void ComparisonAndWhereOpsComputeAsPlainLoops()
    {
        var layers = new[]
        {
            """{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}, "name": "input_1", "inbound_nodes": []}""",
            """{"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 4, "activation": "linear", "use_bias": true, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}, "name": "dense", "inbound_nodes": [[["input_1", 0, 0, {}]]]}""",
            OpLayer("TFOpLambda", "tf.math.greater", "math.greater", """[["dense", 0, 0, {"y": 0.0, "name": null}]]"""),
            OpLayer("TFOpLambda", "tf.math.multiply", "math.multiply", """[["dense", 0, 0, {"y": 0.1, "name": null}]]"""),
            OpLayer("TFOpLambda", "tf.where", "where", """[["tf.math.greater", 0, 0, {"x": ["dense", 0, 0], "y": ["tf.math.multiply", 0, 0], "name": null}]]"""),
            OpLayer("TFOpLambda", "tf.math.less_equal", "math.less_equal", """[["input_1", 0, 0, {"y": 0.0, "name": null}]]"""),
            OpLayer("TFOpLambda", "tf.cast", "cast", """[["tf.math.less_equal", 0, 0, {"dtype": "float32", "name": null}]]"""),
            OpLayer("TFOpLambda", "tf.__operators__.add", "__operators__.add", """[["tf.where", 0, 0, {"y": ["tf.cast", 0, 0], "name": null}]]"""),
        };
        var json = $$"""{"class_name": "Functional", "config": {"name": "model", "trainable": true, "layers": [{{string.Join(", ", layers)}}], "input_layers": [["input_1", 0, 0]], "output_layers": [["tf.__operators__.add", 0, 0]]}, "keras_version": "2.15.0", "backend": "tensorflow"}""";
        var model = KerasApi.ModelFromJson(json);

        var kernel = Enumerable.Range(0, 16).Select(i => (float)Math.Sin(0.7 * i)).ToArray();
        var bias = new[] { 0.1f, -0.2f, 0.3f, -0.4f };
        model.GetLayer("dense").SetWeights(torch.tensor(kernel).reshape(4, 4), torch.tensor(bias));

        var x = Enumerable.Range(0, 12).Select(i => (float)Math.Cos(0.9 * i)).ToArray();
        var actual = model.Predict(torch.tensor(x).reshape(3, 4)).data<float>().ToArray();

        for (var s = 0; s < 3; s++)
        {
            for (var j = 0; j < 4; j++)
            {
                var d = bias[j];
                for (var k = 0; k < 4; k++) d += x[s * 4 + k] * kernel[k * 4 + j];
                var expected = (d > 0 ? d : d * 0.1f) + (x[s * 4 + j] <= 0 ? 1f : 0f);
                Assert.Equal(expected, actual[s * 4 + j], 4);
            }
        }
    }
}
