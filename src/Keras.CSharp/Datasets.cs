using Fs = global::Keras;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp;

/// <summary>Keras's datasets as TorchSharp tensors.</summary>
public static class Datasets
{
    /// <summary>The MNIST handwritten digits (Keras's <c>keras.datasets.mnist</c>).</summary>
    public static class Mnist
    {
        /// <summary>
        /// Keras's <c>mnist.load_data()</c>: <c>var ((xTrain, yTrain), (xTest, yTest)) = Datasets.Mnist.LoadData();</c> with
        /// images as uint8 tensors (count, 28, 28) and labels as int64 tensors (count). Without a path, reads Keras's cache
        /// folder (<c>$KERAS_HOME/datasets</c> or <c>~/.keras/datasets</c>), downloading <c>mnist.npz</c> there if missing.
        /// </summary>
        /// <param name="path">A <c>mnist.npz</c> file, or a folder with the four IDX gzip files; the Keras cache when null.</param>
        /// <exception cref="System.IO.FileNotFoundException">The path or a file in the folder is missing.</exception>
        public static ((Tensor X, Tensor Y) Train, (Tensor X, Tensor Y) Test) LoadData(string? path = null)
        {
            var data = path is null ? Fs.Datasets.Mnist.load() : Fs.Datasets.Mnist.loadFrom(path);
            return ((Fs.Datasets.Tensors.ofImages(data.XTrain), Fs.Datasets.Tensors.ofLabels(data.YTrain)),
                    (Fs.Datasets.Tensors.ofImages(data.XTest), Fs.Datasets.Tensors.ofLabels(data.YTest)));
        }
    }
}
