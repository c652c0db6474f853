/** The column types of the lake's Parquet files, which every engine and the Glue catalog map to their own (no imports: the dashboard's build includes this file). */
export type LakeColumnType = 'string' | 'int32' | 'int64' | 'double' | 'timestamp_ms';
