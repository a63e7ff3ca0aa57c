using System.Collections.Generic;
using System.Linq;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using Fs = global::Keras;

namespace Keras.CSharp;

/// <summary>Conversions between C# values and the F# core's options and lists. Internal: no F# type is public.</summary>
internal static class Fx
{
    /// <summary>An F# <c>Some</c>.</summary>
    public static FSharpOption<T> Some<T>(T value) => FSharpOption<T>.Some(value);

    /// <summary><c>None</c> (null) for a null reference, <c>Some</c> otherwise.</summary>
    public static FSharpOption<T>? Ref<T>(T? value) where T : class => value is null ? null : FSharpOption<T>.Some(value);

    /// <summary><c>None</c> (null) for a null nullable value, <c>Some</c> otherwise.</summary>
    public static FSharpOption<T>? Val<T>(T? value) where T : struct => value.HasValue ? FSharpOption<T>.Some(value.Value) : null;

    /// <summary>An F# list of the items, in order.</summary>
    public static FSharpList<T> List<T>(IEnumerable<T> items) => ListModule.OfSeq(items);

    /// <summary>An F# list of options: <c>None</c> for a null item (an unknown size), <c>Some</c> otherwise (issue 13).</summary>
    public static FSharpList<FSharpOption<T>> OptionList<T>(IEnumerable<T?> items) where T : struct =>
        ListModule.OfSeq(items.Select(i => i.HasValue ? FSharpOption<T>.Some(i.Value) : null!));

    /// <summary>An F# list of key/value tuples, in the dictionary's order.</summary>
    public static FSharpList<System.Tuple<string, TOut>> Pairs<TIn, TOut>(IEnumerable<KeyValuePair<string, TIn>> items, System.Func<TIn, TOut> convert) =>
        ListModule.OfSeq(items.Select(kv => System.Tuple.Create(kv.Key, convert(kv.Value))));

    /// <summary>A Keras activation name resolved by the core (which raises for unknown names); null: none.</summary>
    public static FSharpOption<Fs.Activation>? Activation(string? name) => name is null ? null : Some(Fs.Activation.Parse(name));

    /// <summary>A C# pair as the core's F# tuple.</summary>
    public static System.Tuple<int, int> Tuple((int, int) v) => System.Tuple.Create(v.Item1, v.Item2);

    /// <summary>A C# pair of numbers (a factor range, a value range) as the core's F# tuple.</summary>
    public static System.Tuple<double, double> Tuple((double, double) v) => System.Tuple.Create(v.Item1, v.Item2);

    /// <summary>A C# triple as the core's F# tuple.</summary>
    public static System.Tuple<int, int, int> Tuple((int, int, int) v) => System.Tuple.Create(v.Item1, v.Item2, v.Item3);

    /// <summary>Nested C# pairs as the core's F# tuples.</summary>
    public static System.Tuple<System.Tuple<int, int>, System.Tuple<int, int>> Tuple(((int, int), (int, int)) v) =>
        System.Tuple.Create(Tuple(v.Item1), Tuple(v.Item2));

    /// <summary>Three nested C# pairs as the core's F# tuples.</summary>
    public static System.Tuple<System.Tuple<int, int>, System.Tuple<int, int>, System.Tuple<int, int>> Tuple(((int, int), (int, int), (int, int)) v) =>
        System.Tuple.Create(Tuple(v.Item1), Tuple(v.Item2), Tuple(v.Item3));
}
