// The tests seed and draw from TorchSharp's one global random generator (the guide's MNIST accuracy depends on the
// seed), so they run one after another: in parallel, another class's draws would change a test's numbers.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
