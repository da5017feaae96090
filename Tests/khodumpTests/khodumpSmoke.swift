import Testing
@testable import khodump
