#include <Judy.h>
