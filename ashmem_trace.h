/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the ashmem driver: events/ashmem/ in tracefs. Every event
 * about one region carries the region's name.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM ashmem

#if !defined(_ASHMEM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _ASHMEM_TRACE_H

#include <linux/tracepoint.h>

/*
 * The name goes in a dynamic array rather than __string(): __assign_str()
 * changed its arguments in 6.10, and this works on every target. It is
 * stored escaped, as fdinfo and debugfs print it, so that no name can end
 * an event's line and forge another.
 */
#define ASHMEM_TRACE_NAME						\
	__dynamic_array(char, name, ashmem_escaped_len(name) + 1)
#define ASHMEM_TRACE_ASSIGN_NAME					\
	ashmem_escape(__get_dynamic_array(name),			\
		      __get_dynamic_array_len(name), name)

DECLARE_EVENT_CLASS(ashmem_region,
		    TP_PROTO(const char *name, size_t size),
		    TP_ARGS(name, size),
		    TP_STRUCT__entry(ASHMEM_TRACE_NAME
				     __field(size_t, size)),
		    TP_fast_assign(ASHMEM_TRACE_ASSIGN_NAME;
				   __entry->size = size;),
		    TP_printk("name=%s size=%zu", __get_str(name),
			      __entry->size));

/* The first mmap created the region's memory. */
DEFINE_EVENT(ashmem_region, ashmem_create,
	     TP_PROTO(const char *name, size_t size),
	     TP_ARGS(name, size));

DEFINE_EVENT(ashmem_region, ashmem_release,
	     TP_PROTO(const char *name, size_t size),
	     TP_ARGS(name, size));

DECLARE_EVENT_CLASS(ashmem_pin_range,
		    TP_PROTO(const char *name, pgoff_t start, pgoff_t pages,
			     int result),
		    TP_ARGS(name, start, pages, result),
		    TP_STRUCT__entry(ASHMEM_TRACE_NAME
				     __field(pgoff_t, start)
				     __field(pgoff_t, pages)
				     __field(int, result)),
		    TP_fast_assign(ASHMEM_TRACE_ASSIGN_NAME;
				   __entry->start = start;
				   __entry->pages = pages;
				   __entry->result = result;),
		    TP_printk("name=%s start=%lu pages=%lu result=%d",
			      __get_str(name), __entry->start, __entry->pages,
			      __entry->result));

DEFINE_EVENT(ashmem_pin_range, ashmem_pin,
	     TP_PROTO(const char *name, pgoff_t start, pgoff_t pages,
		      int result),
	     TP_ARGS(name, start, pages, result));

DEFINE_EVENT(ashmem_pin_range, ashmem_unpin,
	     TP_PROTO(const char *name, pgoff_t start, pgoff_t pages,
		      int result),
	     TP_ARGS(name, start, pages, result));

/*
 * Pages of a range that reclaim (or PURGE_ALL_CACHES) purged are punched;
 * @resident: how many of them were in memory, now freed.
 */
TRACE_EVENT(ashmem_purge,
	    TP_PROTO(const char *name, pgoff_t start, pgoff_t pages,
		     unsigned long resident),
	    TP_ARGS(name, start, pages, resident),
	    TP_STRUCT__entry(ASHMEM_TRACE_NAME
			     __field(pgoff_t, start)
			     __field(pgoff_t, pages)
			     __field(unsigned long, resident)),
	    TP_fast_assign(ASHMEM_TRACE_ASSIGN_NAME;
			   __entry->start = start;
			   __entry->pages = pages;
			   __entry->resident = resident;),
	    TP_printk("name=%s start=%lu pages=%lu resident=%lu",
		      __get_str(name), __entry->start, __entry->pages,
		      __entry->resident));

TRACE_EVENT(ashmem_shrink_count,
	    TP_PROTO(int nid, unsigned long count),
	    TP_ARGS(nid, count),
	    TP_STRUCT__entry(__field(int, nid)
			     __field(unsigned long, count)),
	    TP_fast_assign(__entry->nid = nid;
			   __entry->count = count;),
	    TP_printk("nid=%d count=%lu", __entry->nid, __entry->count));

TRACE_EVENT(ashmem_shrink_scan,
	    TP_PROTO(int nid, unsigned long asked, unsigned long freed),
	    TP_ARGS(nid, asked, freed),
	    TP_STRUCT__entry(__field(int, nid)
			     __field(unsigned long, asked)
			     __field(unsigned long, freed)),
	    TP_fast_assign(__entry->nid = nid;
			   __entry->asked = asked;
			   __entry->freed = freed;),
	    TP_printk("nid=%d asked=%lu freed=%lu", __entry->nid,
		      __entry->asked, __entry->freed));

#endif /* _ASHMEM_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE ashmem_trace
#include <trace/define_trace.h>
