// The guide's section in examples/guide/TicketRouting.fs. Run: dotnet fsi examples/guide/ticket_routing.fsx [--quick]
#load "References.fsx" "Example.fs" "TicketRouting.fs"

let run =
    Examples.Example.forScript __SOURCE_DIRECTORY__ (fsi.CommandLineArgs |> Array.skip 1)

Examples.TicketRouting.main run |> ignore
